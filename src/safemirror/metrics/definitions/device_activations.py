"""Device activations: devices activated per period, by model or category."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from safemirror.metrics.periods import MetricQuery
from safemirror.metrics.registry import Cell, Chart, Metric, register


@register
class DeviceActivations(Metric):
    name = "device_activations"
    title = "Device activations"
    description = (
        "Devices (not deleted) whose activation falls in the period. Cells count "
        "the devices' distinct owners for suppression."
    )
    dimensions: ClassVar[Mapping[str, str]] = {"model": "d.model", "category": "d.category"}
    cells = (Cell("activations", "Activations"),)
    columns = ("activations",)
    chart = Chart("bar", "activations")

    def sql(self, query: MetricQuery) -> str:
        return f"""
            WITH per_user AS (
                SELECT date_trunc('{query.grain}', d.activated_at) AS period,
                       {self.dim_sql(query)} AS dim, d.user_id, count(*) AS n
                FROM devices d
                WHERE d.activated_at >= $start AND d.activated_at < $end
                {self.group_by_user(query, "period")})
            SELECT period, dim, sum(n) AS activations, count(*) AS activations__users
            FROM per_user GROUP BY period, dim"""

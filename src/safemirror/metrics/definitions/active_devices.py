"""Active devices: distinct devices with at least one successful connection per period."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from safemirror.metrics.periods import MetricQuery
from safemirror.metrics.registry import Cell, Chart, Metric, register


@register
class ActiveDevices(Metric):
    name = "active_devices"
    title = "Active devices"
    description = (
        "Distinct devices (not deleted) with at least one successful ('ok') "
        "connection in the period."
    )
    dimensions: ClassVar[Mapping[str, str]] = {
        "model": "d.model",
        "category": "d.category",
        "firmware": "d.firmware_version",
    }
    cells = (Cell("active_devices", "Active devices"),)
    columns = ("active_devices",)
    chart = Chart("line", "active_devices")

    def sql(self, query: MetricQuery) -> str:
        return f"""
            WITH seen AS (
                SELECT DISTINCT date_trunc('{query.grain}', ts) AS period, device_id
                FROM connection_events
                WHERE outcome = 'ok' AND ts >= $start AND ts < $end),
            per_user AS (
                SELECT s.period, {self.dim_sql(query)} AS dim, d.user_id, count(*) AS n
                FROM seen s JOIN devices d ON d.id = s.device_id
                {self.group_by_user(query, "s.period")})
            SELECT period, dim, sum(n) AS active_devices, count(*) AS active_devices__users
            FROM per_user GROUP BY period, dim"""

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
            SELECT date_trunc('{query.grain}', e.ts) AS period,
                   {self.dim_sql(query)} AS dim,
                   count(DISTINCT e.device_id) AS active_devices,
                   count(DISTINCT d.user_id) AS active_devices__users
            FROM connection_events e JOIN devices d ON d.id = e.device_id
            WHERE e.outcome = 'ok' AND e.ts >= $start AND e.ts < $end
            {self.group_by(query, "period")}"""

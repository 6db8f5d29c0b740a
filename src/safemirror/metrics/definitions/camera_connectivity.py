"""Camera connectivity rate: active cameras with at least one successful connection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from safemirror.metrics.periods import MetricQuery
from safemirror.metrics.registry import Cell, Chart, Derived, Metric, ratio, register


@register
class CameraConnectivity(Metric):
    name = "camera_connectivity_rate"
    title = "Camera connectivity rate"
    description = (
        "Share of active cameras (not deleted, activated before the end of the "
        "period) with at least one successful connection in the period."
    )
    dimensions: ClassVar[Mapping[str, str]] = {"model": "c.model", "firmware": "c.firmware_version"}
    cells = (
        Cell("cameras", "Active cameras"),
        Cell("connected", "Connected cameras"),
        Cell("offline", "Cameras without a connection", shown=False),
    )
    derived = (
        Derived(
            "connectivity_rate",
            "Connectivity rate",
            ("connected", "cameras"),
            ratio("connected", "cameras"),
        ),
    )
    columns = ("cameras", "connected", "connectivity_rate")
    row_relations = ({"cameras": 1, "connected": -1, "offline": -1},)
    chart = Chart("line", "connectivity_rate", percent=True)

    def sql(self, query: MetricQuery) -> str:
        return f"""
            WITH periods AS (
                SELECT unnest($labels::DATE[])::TIMESTAMP AS period,
                       unnest($ends::TIMESTAMP[]) AS period_end),
            ok AS (
                SELECT DISTINCT date_trunc('{query.grain}', ts) AS period, device_id
                FROM connection_events
                WHERE outcome = 'ok' AND ts >= $start AND ts < $end)
            SELECT p.period AS period,
                   {self.dim_sql(query)} AS dim,
                   count(*) AS cameras,
                   count(ok.device_id) AS connected,
                   count(*) - count(ok.device_id) AS offline,
                   count(DISTINCT c.user_id) AS cameras__users,
                   count(DISTINCT c.user_id) FILTER (WHERE ok.device_id IS NOT NULL)
                       AS connected__users,
                   count(DISTINCT c.user_id) FILTER (WHERE ok.device_id IS NULL)
                       AS offline__users
            FROM periods p
            JOIN devices c ON c.category = 'camera' AND c.activated_at < p.period_end
            LEFT JOIN ok ON ok.period = p.period AND ok.device_id = c.id
            {self.group_by(query, "p.period")}"""

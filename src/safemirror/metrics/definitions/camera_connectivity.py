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
        # Never periods x cameras (it does not fit in memory at scale): active cameras and
        # their owners are running sums of activations; only users with a connected camera
        # in a period are looked at per period, to find those with every camera connected.
        g = query.grain
        return f"""
            WITH periods AS (
                SELECT unnest($labels::DATE[])::TIMESTAMP AS period,
                       unnest($ends::TIMESTAMP[]) AS period_end),
            cams AS (
                SELECT c.id, c.user_id, {self.dim_sql(query)} AS dim, c.activated_at,
                       greatest(date_trunc('{g}', c.activated_at), $first) AS since
                FROM devices c
                WHERE c.category = 'camera' AND c.activated_at < $end),
            added AS (
                SELECT since AS period, dim, count(*) AS n FROM cams
                {self.group_by(query, "since")}),
            firsts AS (
                SELECT min(since) AS period, dim, user_id FROM cams
                {self.group_by(query, "user_id")}),
            new_owners AS (SELECT period, dim, count(*) AS n FROM firsts GROUP BY ALL),
            seen AS (
                SELECT DISTINCT date_trunc('{g}', ts) AS period, device_id
                FROM connection_events
                WHERE outcome = 'ok' AND ts >= $start AND ts < $end),
            conn AS (
                SELECT s.period, c.dim AS dim, c.user_id AS user_id, count(*) AS k
                FROM seen s JOIN cams c ON c.id = s.device_id
                JOIN periods p ON p.period = s.period
                WHERE c.activated_at < p.period_end
                {self.group_by_user(query, "s.period")}),
            owned AS (
                SELECT k.period, k.dim, k.user_id, any_value(k.k) AS k, count(*) AS n
                FROM conn k JOIN periods p ON p.period = k.period
                JOIN cams c ON c.user_id = k.user_id AND c.activated_at < p.period_end
                           AND (k.dim IS NULL OR c.dim = k.dim)
                GROUP BY k.period, k.dim, k.user_id),
            linked AS (
                SELECT period, dim, sum(k) AS connected, count(*) AS owners,
                       count(*) FILTER (WHERE n = k) AS all_connected
                FROM owned GROUP BY period, dim),
            spine AS (
                SELECT p.period, d.dim
                FROM periods p CROSS JOIN (SELECT DISTINCT dim FROM added) d),
            totals AS (
                SELECT s.period, s.dim,
                       sum(coalesce(a.n, 0)) OVER w AS cameras,
                       sum(coalesce(o.n, 0)) OVER w AS owners,
                       coalesce(l.connected, 0) AS connected,
                       coalesce(l.owners, 0) AS connected_owners,
                       coalesce(l.all_connected, 0) AS all_connected
                FROM spine s
                LEFT JOIN added a ON a.period = s.period AND a.dim IS NOT DISTINCT FROM s.dim
                LEFT JOIN new_owners o
                       ON o.period = s.period AND o.dim IS NOT DISTINCT FROM s.dim
                LEFT JOIN linked l ON l.period = s.period AND l.dim IS NOT DISTINCT FROM s.dim
                WINDOW w AS (PARTITION BY s.dim ORDER BY s.period))
            SELECT period, dim, cameras, connected, cameras - connected AS offline,
                   owners AS cameras__users, connected_owners AS connected__users,
                   owners - all_connected AS offline__users
            FROM totals"""

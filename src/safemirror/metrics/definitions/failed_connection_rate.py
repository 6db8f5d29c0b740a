"""Failed connection rate: share of connection attempts that failed or timed out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from safemirror.metrics.periods import MetricQuery
from safemirror.metrics.registry import Cell, Chart, Derived, Metric, ratio, register

FAILED = "e.outcome IN ('failed', 'timeout')"


@register
class FailedConnectionRate(Metric):
    name = "failed_connection_rate"
    title = "Failed connection rate"
    description = (
        "Connection attempts of devices (not deleted) that failed or timed out, "
        "divided by all attempts in the period."
    )
    dimensions: ClassVar[Mapping[str, str]] = {"model": "d.model", "firmware": "d.firmware_version"}
    cells = (
        Cell("attempts", "Attempts"),
        Cell("failed", "Failed or timed out"),
        Cell("succeeded", "Succeeded", shown=False),
    )
    derived = (
        Derived(
            "failure_rate", "Failure rate", ("failed", "attempts"), ratio("failed", "attempts")
        ),
    )
    columns = ("attempts", "failed", "failure_rate")
    row_relations = ({"attempts": 1, "failed": -1, "succeeded": -1},)
    chart = Chart("line", "failure_rate", percent=True)

    def sql(self, query: MetricQuery) -> str:
        return f"""
            SELECT date_trunc('{query.grain}', e.ts) AS period,
                   {self.dim_sql(query)} AS dim,
                   count(*) AS attempts,
                   count(*) FILTER (WHERE {FAILED}) AS failed,
                   count(*) FILTER (WHERE NOT {FAILED}) AS succeeded,
                   count(DISTINCT d.user_id) AS attempts__users,
                   count(DISTINCT d.user_id) FILTER (WHERE {FAILED}) AS failed__users,
                   count(DISTINCT d.user_id) FILTER (WHERE NOT {FAILED}) AS succeeded__users
            FROM connection_events e JOIN devices d ON d.id = e.device_id
            WHERE e.ts >= $start AND e.ts < $end AND e.outcome IS NOT NULL
            {self.group_by(query, "period")}"""

"""Devices per user: the distribution (1, 2, … 10+), mean and median over active users."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import ClassVar

import duckdb

from safemirror.metrics.periods import MetricQuery
from safemirror.metrics.registry import Cell, Chart, Derived, Metric, register
from safemirror.metrics.sqlexec import execute
from safemirror.metrics.table import Grid, Record, as_day, build_grid

BUCKETS = (*(f"users_{n}" for n in range(1, 10)), "users_10plus")


def _mean(values: Mapping[str, float]) -> float | None:
    return round(values["devices"] / values["users"], 6) if values["users"] else None


def _median(values: Mapping[str, float]) -> float | None:
    """The lower median (percentile_disc 0.5); 10 stands for 10 or more."""
    total = values["users"]
    if not total:
        return None
    seen = 0.0
    for n, bucket in enumerate(BUCKETS, start=1):
        seen += values[bucket]
        if seen >= total / 2:
            return float(n)
    return float(len(BUCKETS))


def _median_uses(values: Mapping[str, float]) -> tuple[str, ...]:
    """The median is a function of the users and the buckets up to it, nothing else."""
    median = _median(values)
    return ("users", *BUCKETS[: int(median or len(BUCKETS))])


@register
class DevicesPerUser(Metric):
    name = "devices_per_user"
    title = "Devices per user"
    description = (
        "At the end of each period: for every active user (account not deleted, "
        "owning at least one activated device that is not deleted) the number of "
        "such devices; the distribution 1…9, 10+, the mean and the median."
    )
    dimensions: ClassVar[Mapping[str, str]] = {"country": "u.country"}
    cells = (
        Cell("users", "Active users"),
        Cell("devices", "Their devices"),
        *(Cell(b, b.removeprefix("users_").replace("plus", "+") + " devices") for b in BUCKETS),
    )
    derived = (
        Derived("mean", "Mean devices per user", ("devices", "users"), _mean),
        Derived("median", "Median devices per user", ("users", *BUCKETS), _median, _median_uses),
    )
    columns = ("users", "devices", "mean", "median", *BUCKETS)
    hidden = ("devices_of_10plus",)
    row_relations = (
        {"users": 1.0, **{b: -1.0 for b in BUCKETS}},
        {
            "devices": 1.0,
            **{b: -float(n) for n, b in enumerate(BUCKETS[:-1], start=1)},
            "devices_of_10plus": -1.0,
        },
    )
    chart = Chart("histogram", "mean")

    def sql(self, query: MetricQuery) -> str:
        return f"""
            WITH owned AS (
                SELECT {self.dim_sql(query)} AS dim, d.activated_at,
                       row_number() OVER (PARTITION BY d.user_id
                                          ORDER BY d.activated_at, d.id) AS j
                FROM devices d JOIN users u ON u.id = d.user_id
                WHERE d.activated_at IS NOT NULL AND d.activated_at < $end)
            SELECT greatest(date_trunc('{query.grain}', activated_at), $first) AS period,
                   dim, least(j, 11) AS j, count(*) AS n
            FROM owned GROUP BY ALL"""

    def fetch(self, con: duckdb.DuckDBPyConnection, query: MetricQuery) -> Grid:
        """Devices per user and rank from SQL; the distribution at each period end in Python."""
        rows = execute(con, self.sql(query), query).fetchall()
        counts: dict[tuple[date, str | None, int], int] = {}
        dims: set[str | None] = set()
        for period, dim, j, n in rows:
            counts[(as_day(period), dim, int(j))] = int(n)
            dims.add(dim)
        return build_grid(query, [c.name for c in self.cells], self._records(query, counts, dims))

    @staticmethod
    def _records(
        query: MetricQuery, counts: dict[tuple[date, str | None, int], int], dims: set[str | None]
    ) -> list[Record]:
        at_least = {d: [0] * 12 for d in dims}  # at_least[d][j]: devices ranked j (11: 11+)
        out: list[Record] = []
        for period in query.periods():
            total = dict.fromkeys(["users", "devices", *BUCKETS], 0)
            for dim in sorted(dims, key=lambda d: (d is None, d or "")):
                ranks = at_least[dim]
                for j in range(1, 12):
                    ranks[j] += counts.get((period.label, dim, j), 0)
                cell = {"users": ranks[1], "devices": sum(ranks[1:])}
                cell |= {b: ranks[n] - ranks[n + 1] for n, b in enumerate(BUCKETS[:-1], start=1)}
                cell["users_10plus"] = ranks[10]
                users = {b: cell[b] for b in BUCKETS} | {"users": ranks[1], "devices": ranks[1]}
                if query.by is not None:
                    out.append((period.label, dim, dict(cell), users))
                for key, value in cell.items():
                    total[key] += value
            users_total = {b: total[b] for b in BUCKETS}
            users_total |= {"users": total["users"], "devices": total["users"]}
            out.append((period.label, None, dict(total), users_total))
        return out

"""User growth: new users per period and the cumulative total, by country."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import ClassVar

import duckdb

from safemirror.metrics.periods import MetricQuery, midnight
from safemirror.metrics.registry import Cell, Chart, Metric, register
from safemirror.metrics.sqlexec import execute
from safemirror.metrics.suppress import Problem
from safemirror.metrics.table import Grid, Row, as_day


@register
class UserGrowth(Metric):
    name = "user_growth"
    title = "User growth"
    description = (
        "New accounts (not deleted) created in the period, and the cumulative "
        "number of those accounts created up to the end of the period."
    )
    dimensions: ClassVar[Mapping[str, str]] = {"country": "u.country"}
    cells = (Cell("new_users", "New users"), Cell("cumulative_users", "Cumulative users"))
    columns = ("new_users", "cumulative_users")
    chart = Chart("bar", "new_users")

    def sql(self, query: MetricQuery) -> str:
        dim = self.dim_sql(query)
        base_group = "GROUP BY GROUPING SETS ((dim), ())" if query.by else ""
        return f"""
            WITH base AS (
                SELECT {dim} AS dim, count(*) AS n FROM users u
                WHERE u.created_at < $start {base_group}),
            fresh AS (
                SELECT date_trunc('{query.grain}', u.created_at) AS period, {dim} AS dim,
                       count(*) AS n
                FROM users u WHERE u.created_at >= $start AND u.created_at < $end
                {self.group_by(query, "period")})
            SELECT NULL::TIMESTAMP AS period, dim, n FROM base
            UNION ALL SELECT period, dim, n FROM fresh"""

    def fetch(self, con: duckdb.DuckDBPyConnection, query: MetricQuery) -> Grid:
        """New users per cell from SQL; cumulative counts as base + running sum."""
        periods = query.periods()
        label_of: dict[date | datetime, date] = {midnight(p.label): p.label for p in periods}
        base: dict[str | None, int] = {}
        fresh: dict[tuple[date, str | None], int] = {}
        for period, dim, n in execute(con, self.sql(query), query).fetchall():
            if period is None:
                base[dim] = int(n)
            else:
                fresh[(label_of.get(period) or as_day(period), dim)] = int(n)
        dims = sorted({d for d in base if d is not None} | {d for _, d in fresh if d is not None})
        running = {key: base.get(key, 0) for key in [None, *dims]}
        grid: list[Row] = []
        for period in periods:  # already the full grid: every period, every dim
            label = period.label
            for key, before in running.items():
                new = fresh.get((label, key), 0)
                running[key] = total = before + new
                # Both cells are counts of users: their values are their user counts.
                users = {"new_users": new, "cumulative_users": total}
                grid.append(Row(label, key, {"new_users": new, "cumulative_users": total}, users))
        return Grid(query, grid)

    def relate(self, grid: Grid, problem: Problem) -> None:
        """cumulative[t] = cumulative[t-1] + new[t]; before the range: a hidden base."""
        index = problem.index
        previous: dict[str | None, int] = {}
        relations: list[dict[int, float]] = []
        for i, row in enumerate(grid.rows):
            before = previous.get(row.dim)
            if before is None:
                problem.add(("base", row.dim), None, shown=False)
                before = index[("base", row.dim)]
            cumulative = index[(i, "cumulative_users")]
            relations.append({cumulative: 1.0, index[(i, "new_users")]: -1.0, before: -1.0})
            previous[row.dim] = cumulative
        problem.relate_indices(relations)
        if grid.query.by is not None:
            problem.relate({("base", d): (1.0 if d is None else -1.0) for d in previous})

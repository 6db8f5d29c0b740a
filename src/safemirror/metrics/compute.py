"""Compute a metric on the mirror and apply small-cell suppression to it.

``compute_raw`` gives the unsuppressed grid (tests and benchmarks only); ``compute`` is
the only way results leave: every path (API, dashboard, CLI, CSV) goes through it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from safemirror.metrics.periods import MetricQuery
from safemirror.metrics.registry import Metric
from safemirror.metrics.suppress import Problem, protect
from safemirror.metrics.table import Grid

SUPPRESSED = "suppressed"


@dataclass
class ResultRow:
    period: date
    dim: str | None
    total: bool
    values: dict[str, float | int | None]
    suppressed: list[str] = field(default_factory=list)


@dataclass
class MetricResult:
    """A suppressed metric result, safe to publish."""

    metric: Metric
    query: MetricQuery
    min_cell: int
    rows: list[ResultRow]

    @property
    def columns(self) -> list[str]:
        return list(self.metric.columns)

    @property
    def suppressed_cells(self) -> int:
        return sum(len(r.suppressed) for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        by = self.query.by
        rows = []
        for row in self.rows:
            item: dict[str, Any] = {"period": row.period.isoformat()}
            if by is not None:
                item[by] = row.dim
            item["total"] = row.total
            item.update(row.values)
            item["suppressed"] = row.suppressed
            rows.append(item)
        return {
            "metric": self.metric.name,
            "title": self.metric.title,
            "grain": self.query.grain,
            "by": by,
            "from": self.query.start.isoformat(),
            "to": self.query.end.isoformat(),
            "min_cell": self.min_cell,
            "columns": self.columns,
            "suppressed_cells": self.suppressed_cells,
            "rows": rows,
        }


def compute_raw(con: duckdb.DuckDBPyConnection, metric: Metric, query: MetricQuery) -> Grid:
    """The unsuppressed grid. Never publish it: use ``compute``."""
    metric.check(query)
    return metric.fetch(con, query)


def build_problem(metric: Metric, grid: Grid) -> Problem:
    """Variables (row i's cell ``name`` is ``(i, name)``) and every known relation."""
    problem = Problem()
    for i, row in enumerate(grid.rows):
        for cell in metric.cells:
            # Totals are costlier to withhold than parts: prefer parts as complements.
            problem.add(
                (i, cell.name),
                row.users[cell.name],
                shown=cell.shown,
                cost=1.0 if row.dim is None and grid.query.by is not None else 0.0,
            )
        for name in metric.hidden:
            problem.add((i, name), None, shown=False)
        for relation in metric.row_relations:
            problem.relate({(i, name): coef for name, coef in relation.items()})
    if grid.query.by is not None:
        additive = [c.name for c in metric.cells if c.additive] + list(metric.hidden)
        index = {id(row): i for i, row in enumerate(grid.rows)}
        for rows in grid.by_period().values():
            total = next(index[id(r)] for r in rows if r.dim is None)
            parts = [index[id(r)] for r in rows if r.dim is not None]
            for name in additive:
                terms: dict[Hashable, float] = {(total, name): 1.0}
                terms |= {(p, name): -1.0 for p in parts}
                problem.relate(terms)
    metric.relate(grid, problem)
    return problem


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def suppress(metric: Metric, grid: Grid, k: int) -> MetricResult:
    """Withhold small cells and their complements; derived values follow their sources."""
    withheld = protect(build_problem(metric, grid), k)
    rows: list[ResultRow] = []
    shown = [c.name for c in metric.cells if c.shown]
    for i, row in enumerate(grid.rows):
        hidden = {name for name in shown if (i, name) in withheld}
        values: dict[str, float | int | None] = {}
        for derived in metric.derived:
            if hidden.intersection(derived.used(row.values)):
                hidden.add(derived.name)
            else:
                values[derived.name] = derived.compute(row.values)
        for name in shown:
            if name not in hidden:
                values[name] = _number(row.values[name])
        ordered = {c: (None if c in hidden else values.get(c)) for c in metric.columns}
        rows.append(
            ResultRow(
                row.period,
                row.dim,
                row.dim is None,
                ordered,
                [c for c in metric.columns if c in hidden],
            )
        )
    return MetricResult(metric, grid.query, k, rows)


def compute(
    con: duckdb.DuckDBPyConnection, metric: Metric, query: MetricQuery, k: int
) -> MetricResult:
    """Compute ``metric`` for ``query`` on the mirror, with suppression at ``k`` users."""
    return suppress(metric, compute_raw(con, metric, query), k)


def latest_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last day with activity in the mirror (None when empty or not a mirror)."""
    try:
        row = con.execute("""
            SELECT max(d) FROM (
                SELECT max(ts) AS d FROM connection_events
                UNION ALL SELECT max(created_at) FROM users
                UNION ALL SELECT max(activated_at) FROM devices)""").fetchone()
    except duckdb.Error:
        return None
    value = row[0] if row else None
    return value.date() if value is not None else None

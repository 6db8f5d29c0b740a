"""Compute a metric on the mirror and apply small-cell suppression to it.

``compute_raw`` gives the unsuppressed grid (tests and benchmarks only); ``compute`` is
the only way results leave: every path (API, dashboard, CLI, CSV) goes through it.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date, datetime

import duckdb

from safemirror.metrics.categories import value_of
from safemirror.metrics.periods import MetricQuery
from safemirror.metrics.registry import Metric
from safemirror.metrics.result import SUPPRESSED, MetricResult, Published, ResultRow
from safemirror.metrics.suppress import Problem, check_min_cell, protect
from safemirror.metrics.table import Grid

__all__ = ["SUPPRESSED", "MetricResult", "ResultRow", "compute", "compute_raw", "suppress"]


def compute_raw(con: duckdb.DuckDBPyConnection, metric: Metric, query: MetricQuery) -> Grid:
    """The unsuppressed grid. Never publish it: use ``compute``."""
    metric.check(query)
    return metric.grid(con, query)


def build_problem(metric: Metric, grid: Grid) -> Problem:
    """Variables (row i's cell ``name`` is ``(i, name)``) and every known relation.

    Row i's cells, then its hidden quantities, are variables ``i * width`` onwards. The
    relations are declared only if suppression needs them (``Problem.defer``).
    """
    problem = Problem()
    rows = grid.rows
    by = grid.query.by is not None
    cells = [c.name for c in metric.cells]
    names = cells + list(metric.hidden)
    hidden: list[int | None] = [None] * len(metric.hidden)
    users: list[int | None] = []
    costs: list[float] = []
    for row in rows:
        counts = row.users
        users += [counts[name] for name in cells]
        users += hidden
        # Totals are costlier to withhold than parts: prefer parts as complements.
        costs += [1.0 if by and row.dim is None else 0.0] * len(cells) + [0.0] * len(hidden)
    problem.extend(
        [(i, name) for i in range(len(rows)) for name in names],
        users,
        ([c.shown for c in metric.cells] + [False] * len(hidden)) * len(rows),
        costs,
    )
    problem.defer(lambda: _relate(metric, grid, problem, names))
    return problem


def _relate(metric: Metric, grid: Grid, problem: Problem, names: list[str]) -> None:
    """Row relations, totals as sums of their parts, then the metric's own relations."""
    rows, width = grid.rows, len(names)
    position = {name: j for j, name in enumerate(names)}
    relations = [
        {position[name]: coef for name, coef in relation.items()}
        for relation in metric.row_relations
    ]
    problem.relate_indices(
        [
            {base + j: coef for j, coef in relation.items()}
            for base in range(0, len(rows) * width, width)
            for relation in relations
        ]
    )
    if grid.query.by is not None:
        additive = [position[c.name] for c in metric.cells if c.additive]
        additive += [position[name] for name in metric.hidden]
        periods: dict[date, list[int]] = {}
        for i, row in enumerate(rows):
            periods.setdefault(row.period, []).append(i)
        totals: list[dict[int, float]] = []
        for members in periods.values():
            total = next(i for i in members if rows[i].dim is None) * width
            parts = [i * width for i in members if rows[i].dim is not None]
            for j in additive:
                terms = {total + j: 1.0}
                terms |= dict.fromkeys([p + j for p in parts], -1.0)
                totals.append(terms)
        problem.relate_indices(totals)
    metric.relate(grid, problem)


def _number(value: float) -> float | int:
    if type(value) is int:
        return value
    return int(value) if float(value).is_integer() else value


def _withheld(metric: Metric, grid: Grid, k: int) -> set[Hashable]:
    """``protect(build_problem(metric, grid), k)``, without building the problem when no
    cell, shown or not, has fewer than ``k`` users: every other variable is a hidden
    quantity, never small, so there is nothing to withhold."""
    check_min_cell(k)
    cells = [c.name for c in metric.cells]
    for row in grid.rows:
        users = row.users
        for name in cells:
            n = users[name]
            if n is not None and n < k:
                return protect(build_problem(metric, grid), k)
    return set()


def suppress(metric: Metric, grid: Grid, k: int) -> MetricResult:
    """Withhold small cells and their complements; derived values follow their sources."""
    withheld = _withheld(metric, grid, k)
    rows: list[ResultRow] = []
    shown = [c.name for c in metric.cells if c.shown]
    columns = metric.columns
    derived_names = {d.name for d in metric.derived}
    # Where each output column comes from: a shown cell (1), a derived value (2) or nowhere.
    plan = [(c, 1 if c in shown else 2 if c in derived_names else 0) for c in columns]
    ordered: dict[str, float | int | None]
    by = grid.query.by
    if (
        not withheld
        and not metric.derived
        and all(kind == 1 for _, kind in plan)
        and not {"period", "total", SUPPRESSED, by}.intersection(columns)
    ):
        return _published(metric, grid, k)
    for i, row in enumerate(grid.rows):
        source = row.values
        hidden = {name for name in shown if (i, name) in withheld} if withheld else None
        if not hidden:
            computed = {d.name: d.compute(source) for d in metric.derived}
            ordered = {
                c: _number(source[c]) if kind == 1 else computed[c] if kind == 2 else None
                for c, kind in plan
            }
            rows.append(ResultRow(row.period, value_of(row.dim), row.dim is None, ordered, []))
            continue
        values: dict[str, float | int | None] = {}
        for derived in metric.derived:
            if hidden.intersection(derived.used(source)):
                hidden.add(derived.name)
            else:
                values[derived.name] = derived.compute(source)
        for name in shown:
            if name not in hidden:
                values[name] = _number(source[name])
        ordered = {c: (None if c in hidden else values.get(c)) for c in columns}
        suppressed = [c for c in columns if c in hidden]
        dim = value_of(row.dim)
        rows.append(ResultRow(row.period, dim, row.dim is None, ordered, suppressed))
    return MetricResult(metric, grid.query, k, rows)


def _published(metric: Metric, grid: Grid, k: int) -> MetricResult:
    """The common case (nothing withheld, every column a shown cell) built straight in the
    published shape: one dict per row."""
    by, columns = grid.query.by, metric.columns
    day = {p.label: p.label.isoformat() for p in grid.query.periods()}
    whole = True  # every value an int
    rows: list[Published] = []
    for row in grid.rows:
        period = day.get(row.period) or row.period.isoformat()
        if by is None:
            item: Published = {"period": period, "total": row.dim is None}
        else:
            item = {"period": period, by: value_of(row.dim), "total": row.dim is None}
        source = row.values
        for c in columns:
            value = source[c]
            if type(value) is not int:
                value = _number(value)
                whole = whole and type(value) is int
            item[c] = value
        item[SUPPRESSED] = []
        rows.append(item)
    return MetricResult(metric, grid.query, k, published=rows, whole=whole)


def compute(
    con: duckdb.DuckDBPyConnection, metric: Metric, query: MetricQuery, k: int
) -> MetricResult:
    """Compute ``metric`` for ``query`` on the mirror, with suppression at ``k`` users."""
    return suppress(metric, compute_raw(con, metric, query), k)


# The columns that say when something happened, each read on its own: a mirror that lacks
# one (a project whose policy skips connection events, say) still has a latest day.
_ACTIVITY_COLUMNS = (
    ("connection_events", "ts"),
    ("users", "created_at"),
    ("devices", "activated_at"),
)


def latest_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last day with activity in the mirror (None when it has none, or is not a mirror).
    ``infinity`` (kept from PostgreSQL) is no day: left out."""
    days: list[date] = []
    for table, column in _ACTIVITY_COLUMNS:
        try:
            row = con.execute(
                f'SELECT max("{column}") FROM "{table}" WHERE isfinite("{column}")'
            ).fetchone()
        except (duckdb.CatalogException, duckdb.BinderException):
            continue  # not in this mirror
        value = row[0] if row else None
        if isinstance(value, datetime):
            days.append(value.date())
        elif isinstance(value, date):
            days.append(value)
    return max(days, default=None)

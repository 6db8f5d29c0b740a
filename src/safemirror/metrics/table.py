"""The unsuppressed result of a metric: a full grid of periods × dimension values.

Every period of the query appears, and with a dimension every value seen in the range
appears in every period (missing combinations are explicit zeros built from no users),
plus one total row per period (``dim=None``). Each cell carries its value and the number
of distinct users behind it; those counts drive suppression and never leave the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from safemirror.metrics.periods import MetricQuery


@dataclass(slots=True)
class Row:
    period: date
    dim: str | None  # None: the total over the dimension (the only row without one)
    values: dict[str, float] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


@dataclass
class Grid:
    query: MetricQuery
    rows: list[Row]

    def by_period(self) -> dict[date, list[Row]]:
        out: dict[date, list[Row]] = {}
        for row in self.rows:
            out.setdefault(row.period, []).append(row)
        return out


def as_day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


Record = tuple[date | datetime, str | None, dict[str, float], dict[str, int]]


def build_grid(query: MetricQuery, cells: Sequence[str], records: Iterable[Record]) -> Grid:
    """Place SQL records (period, dim, values, users) on the full grid, zero-filling gaps."""
    found: dict[tuple[date, str | None], Record] = {}
    dims: set[str] = set()
    for record in records:
        day, value = as_day(record[0]), record[1]
        found[(day, value)] = record
        if value is not None:
            dims.add(value)
    order: list[str | None] = [None, *sorted(dims)] if query.by is not None else [None]
    rows: list[Row] = []
    for period in query.periods():
        for dim in order:
            hit = found.get((period.label, dim))
            values = {c: float(hit[2].get(c, 0) or 0) if hit else 0.0 for c in cells}
            users = {c: int(hit[3].get(c, 0) or 0) if hit else 0 for c in cells}
            rows.append(Row(period.label, dim, values, users))
    return Grid(query, rows)

"""Running a metric's SQL: its named parameters and turning result rows into grid records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from safemirror.metrics.periods import MetricQuery, midnight
from safemirror.metrics.table import Record

USERS = "__users"  # suffix of the column holding a cell's distinct-user count


def params(query: MetricQuery) -> dict[str, Any]:
    """Named parameters a metric's SQL may use ($start, $end, $first, $labels, $ends)."""
    periods = query.periods()
    return {
        "start": query.start_ts,
        "end": query.end_ts,
        "first": midnight(periods[0].label) if periods else query.start_ts,
        "labels": [p.label for p in periods],
        "ends": [p.end for p in periods],
    }


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, query: MetricQuery
) -> duckdb.DuckDBPyConnection:
    """Run ``sql`` with the parameters it names."""
    used = {k: v for k, v in params(query).items() if f"${k}" in sql}
    return con.execute(sql, used)


def records(
    con: duckdb.DuckDBPyConnection, sql: str, query: MetricQuery, cells: Sequence[str]
) -> list[Record]:
    """Run ``sql`` (columns: period, dim, each cell and ``<cell>__users``) into records."""
    cursor = execute(con, sql, query)
    names = [d[0] for d in cursor.description or []]
    out: list[Record] = []
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        values = {c: item[c] for c in cells}
        users = {c: item[c + USERS] for c in cells}
        out.append((item["period"], item["dim"], values, users))
    return out

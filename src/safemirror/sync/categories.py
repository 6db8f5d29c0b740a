"""Common categories of ``generalize: min_count`` columns, and the rule that keeps them so.

A category (a value of a ``min_count: N`` column) is shown in the mirror only while at
least N rows of the mirror table hold it; rarer ones read ``other`` (the column's
replacement):

- A table written in full keeps the categories that at least N source rows hold.
- An incremental run keeps the categories the mirror already shows, so it never scans a
  whole production table; a category that grows common between full runs is shown from
  the next full run on.
- After every write, a shown category that fewer than N mirror rows hold (rows changed
  or left; or the source count included soft-deleted rows) becomes ``other`` on the rows
  that still hold it.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.mirror import textcounts
from safemirror.mirror.schema import quote
from safemirror.policy.model import Action, ColumnPolicy, TablePolicy
from safemirror.sources.base import Source
from safemirror.sync.plan import TablePlan

Allowed = dict[tuple[str, str], frozenset[object]]


def min_count_columns(policy: TablePolicy) -> dict[str, ColumnPolicy]:
    """The ``generalize: min_count`` columns of a table policy."""
    return {
        column: spec
        for column, spec in policy.columns.items()
        if spec.action is Action.GENERALIZE and spec.min_count
    }


def count_on_source(source: Source, tables: Mapping[str, TablePolicy]) -> Allowed:
    """The categories at least ``min_count`` source rows hold, per column of ``tables``."""
    allowed: Allowed = {}
    for name, table_policy in tables.items():
        for column, spec in min_count_columns(table_policy).items():
            values = source.value_counts(name, column, int(spec.min_count or 0))
            allowed[(name, column)] = frozenset(values)
    return allowed


def shown_in_mirror(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Mapping[str, ColumnPolicy],
    counts: textcounts.Counts | None,
) -> Allowed:
    """The categories ``table`` shows now (its running text counts, else a count)."""
    known = counts or {}
    missing = [c for c in columns if c not in known]
    if missing:
        known = {**known, **textcounts.count_columns(con, quote(table), missing)}
    allowed: Allowed = {}
    for column, spec in columns.items():
        counted = known[column]
        common = pc.greater_equal(counted.column("n"), int(spec.min_count or 0))
        shown = pc.filter(counted.column("v"), common).to_pylist()
        allowed[(table, column)] = frozenset(v for v in shown if v != spec.other)
    return allowed


def allowed_for(
    plans: list[TablePlan],
    source: Source,
    con: duckdb.DuckDBPyConnection,
    tables_in_mirror: Mapping[str, object],
    counts: Mapping[str, textcounts.Counts],
    counted: Allowed,
) -> Allowed:
    """The categories to keep for every planned table: from the mirror for an incremental
    table, from the source (``counted`` already, or counted now) for any other."""
    allowed: Allowed = {}
    to_count: dict[str, TablePolicy] = {}
    for plan in plans:
        columns = min_count_columns(plan.policy)
        if not columns:
            continue
        if plan.incremental and plan.name in tables_in_mirror:
            allowed.update(shown_in_mirror(con, plan.name, columns, counts.get(plan.name)))
        elif all((plan.name, c) in counted for c in columns):
            allowed.update({(plan.name, c): counted[(plan.name, c)] for c in columns})
        else:
            to_count[plan.name] = plan.policy
    allowed.update(count_on_source(source, to_count))
    return allowed


def enforce(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Mapping[str, ColumnPolicy],
    counts: textcounts.Counts,
) -> textcounts.Counts:
    """Turn every shown category of ``table`` that too few rows hold into ``other``;
    ``counts`` (the table's text counts after its write) adjusted to match."""
    out = dict(counts)
    for column, spec in columns.items():
        counted = out.get(column)
        if counted is None:
            counted = textcounts.count_columns(con, quote(table), [column])[column]
        values, n = counted.column("v"), counted.column("n")
        rare = pc.and_(pc.less(n, int(spec.min_count or 0)), pc.not_equal(values, spec.other))
        rare_values = pc.filter(values, rare)
        if not len(rare_values):
            out[column] = counted
            continue
        q = quote(column)
        con.execute(
            f"UPDATE {quote(table)} SET {q} = ? WHERE {q} IN (SELECT unnest(?::VARCHAR[]))",
            [spec.other, rare_values.to_pylist()],
        )
        moved = pc.sum(pc.filter(n, rare)).as_py() or 0
        kept = counted.filter(pc.invert(rare))
        other = pc.equal(kept.column("v"), spec.other)
        before = pc.sum(pc.filter(kept.column("n"), other)).as_py() or 0
        merged = pa.concat_tables(
            [
                kept.filter(pc.invert(other)),
                pa.table({"v": [spec.other], "n": [before + moved]}, schema=textcounts.COUNTED),
            ]
        )
        out[column] = merged
    return out

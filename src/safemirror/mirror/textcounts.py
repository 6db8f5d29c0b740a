"""Running counts of the mirror's text values, so verify need not rescan whole tables.

``_sm_text_counts`` holds, for every mirror table and text column, each distinct value and
how many rows hold it: values that are in the mirror anyway. An incremental run adjusts a
table's counts by the rows it wrote and the rows it removed, then checks each column's
total against the table itself (``count(column)``: no grouping, a fraction of the cost),
unless the run trusts the counts because the mirror is the file that stored them
(``seal``); a table that was rebuilt, has no counts yet, changed its text columns or fails
the check is counted from scratch. ``safemirror verify`` never relies on these counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import duckdb
import pyarrow as pa
import pyarrow.acero  # Table.group_by loads it on first use: load it here, not in a sync
import pyarrow.compute as pc

from safemirror.mirror.schema import quote

TABLE = "_sm_text_counts"
COUNTED = pa.schema([("v", pa.string()), ("n", pa.int64())])

Counts = dict[str, pa.Table]  # text column -> its values ``v`` and row counts ``n``


def count_columns(con: duckdb.DuckDBPyConnection, source: str, columns: list[str]) -> Counts:
    """The distinct non-null values of ``columns`` in ``source`` (a table or a query)."""
    return {
        column: con.sql(
            f"SELECT {quote(column)}::VARCHAR AS v, count(*)::BIGINT AS n FROM {source} "
            f"WHERE {quote(column)} IS NOT NULL GROUP BY 1"
        )
        .to_arrow_table()
        .cast(COUNTED)
        for column in columns
    }


def count_arrow(rows: pa.Table, columns: list[str]) -> Counts:
    """The same for rows already in memory."""
    out: Counts = {}
    for column in columns:
        values = rows.column(column).drop_null().cast(pa.string())
        counted = pc.value_counts(values)
        out[column] = pa.table(
            [counted.field("values"), counted.field("counts").cast(pa.int64())], schema=COUNTED
        )
    return out


def load(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> dict[str, Counts]:
    """Every table's stored counts (none if the mirror, of ``tables``, predates them)."""
    if TABLE not in tables:
        return {}
    stored = con.sql(f"SELECT table_name, column_name, value, n FROM {TABLE}").to_arrow_table()
    out: dict[str, Counts] = {}
    if not stored.num_rows:
        return out
    keys = pc.binary_join_element_wise(
        stored.column("table_name"), stored.column("column_name"), "\x00"
    )
    for key in pc.unique(keys).to_pylist():
        table, column = str(key).split("\x00", 1)
        part = stored.filter(pc.equal(keys, key))
        out.setdefault(table, {})[column] = pa.table(
            [part.column("value"), part.column("n")], schema=COUNTED
        )
    return out


def adjust(old: Counts, added: Counts, removed: Counts) -> Counts | None:
    """``old`` plus ``added`` minus ``removed``; None if a count would go negative."""
    out: Counts = {}
    for column, before in old.items():
        new, gone = added.get(column), removed.get(column)
        if not (new is not None and new.num_rows) and not (gone is not None and gone.num_rows):
            out[column] = before  # nothing written or removed: no grouping to redo
            continue
        parts = [before, new if new is not None else COUNTED.empty_table()]
        if gone is not None and gone.num_rows:
            parts.append(gone.set_column(1, "n", pc.negate(gone.column("n"))))
        summed = pa.concat_tables(parts).group_by("v").aggregate([("n", "sum")])
        summed = summed.rename_columns(["v", "n"]).select(["v", "n"])
        if summed.num_rows and pc.min(summed.column("n")).as_py() < 0:
            return None
        out[column] = summed.filter(pc.greater(summed.column("n"), 0)).cast(COUNTED)
    return out


def consistent(
    con: duckdb.DuckDBPyConnection,
    table: str,
    counts: Counts,
    non_null: Mapping[str, int] | None = None,
) -> bool:
    """Whether each column's counts add up to its non-null rows in ``table`` (counted
    here unless ``non_null`` holds them)."""
    if not counts:
        return True
    columns = list(counts)
    if non_null is None or any(c not in non_null for c in columns):
        found = con.execute(
            "SELECT " + ", ".join(f"count({quote(c)})" for c in columns) + f" FROM {quote(table)}"
        ).fetchall()[0]
        non_null = {c: int(found[i]) for i, c in enumerate(columns)}
    return all(non_null[c] == int(pc.sum(counts[c].column("n")).as_py() or 0) for c in columns)


def update(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str],
    old: Counts | None,
    added: Counts | None,
    removed: Counts | None,
    non_null: Mapping[str, int] | None = None,
    *,
    check: bool = True,
) -> Counts:
    """``table``'s counts after a write: adjusted when that is sound, else counted afresh.

    ``added``/``removed`` are None when the write rebuilt the table; ``non_null`` holds
    the columns' non-null rows when the write counted them. ``check=False`` trusts ``old``
    (the mirror is the file that stored them, see ``seal``): no check against the table."""
    if old is not None and added is not None and sorted(old) == sorted(columns):
        adjusted = adjust(old, added, removed or {})
        if adjusted is not None and (not check or consistent(con, table, adjusted, non_null)):
            return adjusted
    return count_columns(con, quote(table), columns)


def save(con: duckdb.DuckDBPyConnection, counts: Mapping[str, Counts]) -> None:
    """Replace the stored counts with ``counts`` (tables not in it lose theirs)."""
    parts = [
        pa.table(
            {
                "table_name": pa.repeat(pa.scalar(table), values.num_rows),
                "column_name": pa.repeat(pa.scalar(column), values.num_rows),
                "value": values.column("v"),
                "n": values.column("n"),
            }
        )
        for table, columns in counts.items()
        for column, values in columns.items()
    ]
    con.execute(f"DELETE FROM {TABLE}")
    if parts:
        # DuckDB reads the variable the statement names (a replacement scan): no view to
        # create and drop for it.
        _sm_counts_rows = pa.concat_tables(parts)
        con.execute(f"INSERT INTO {TABLE} SELECT * FROM _sm_counts_rows")

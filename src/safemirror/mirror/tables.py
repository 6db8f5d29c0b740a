"""Apply one table's transformed stream to the mirror, keeping presence history.

Every mirrored row carries ``_sm_entered_at`` (when it entered the mirror). A row that
leaves (soft-deleted at the source, vanished on a full sync, or re-keyed by a new key)
is recorded in ``_sm_history`` with its entry and exit times, so the rows present at any
instant can be listed afterwards (``presence.present_at``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.errors import PolicyError
from safemirror.mirror.schema import (
    DELETED,
    ENTERED,
    REBUILT_SUFFIX,
    STAGE,
    is_system,
    quote,
)
from safemirror.mirror.textcounts import Counts, count_arrow, count_columns

STAGE_IN_MEMORY = 262_144  # rows up to which a table's changes are staged as Arrow
STAGE_IN_MEMORY_BYTES = 64 << 20  # ... and bytes (wide rows: text and blobs)
ROW_ID = "_sm_row_id"  # the mirror row id of a replaced row, as the upsert selects it


@dataclass(frozen=True)
class TableOutcome:
    rows_read: int
    rows_written: int  # rows added or changed (an upsert leaves out rows read again unchanged)
    rows_left: int
    rows_in_mirror: int
    added: Counts | None = None  # text values written, when the table was not rebuilt
    removed: Counts | None = None  # text values of the rows replaced or deleted
    non_null: dict[str, int] | None = None  # each text column's non-null rows after an upsert


Layout = dict[str, list[tuple[str, str]]]  # mirror table -> [(column, DuckDB type)]


def mirror_layout(con: duckdb.DuckDBPyConnection, database: str | None = None) -> Layout:
    """Every permanent table of the mirror (or of the attached ``database``) with its
    columns in order (one catalog query)."""
    layout: Layout = {}
    for table, column, dtype in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = coalesce(?, current_database()) AND schema_name = 'main' "
        "AND NOT internal ORDER BY table_name, column_index",
        [database],
    ).fetchall():
        layout.setdefault(str(table), []).append((str(column), str(dtype)))
    return layout


def row_key_sql(alias: str, key: list[str]) -> str:
    """The text form of a row's key, as stored in ``_sm_history.row_key``."""
    parts = [f"CAST({alias}.{quote(c)} AS VARCHAR)" for c in key]
    return parts[0] if len(parts) == 1 else "concat_ws('|', " + ", ".join(parts) + ")"


def _join(left: str, right: str, key: list[str]) -> str:
    return " AND ".join(f"{left}.{quote(c)} = {right}.{quote(c)}" for c in key)


def write_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: list[str],
    stream: pa.RecordBatchReader,
    *,
    existing: list[tuple[str, str]] | None,
    text_columns: list[str],
    incremental: bool,
    run_ts: datetime,
    old_fingerprint: str | None,
    previous: str | None = None,
    count_text: bool = True,
) -> TableOutcome:
    """Replace (full) or upsert (incremental) ``table`` from ``stream``.

    ``stream`` carries the mirror columns plus ``_sm_deleted``; deleted rows leave.
    ``existing`` is the table's current columns (``mirror_layout``), None if it is new;
    an upsert reports the values it wrote and removed in ``text_columns``. With
    ``previous`` (the attached database holding the existing table), the table is built
    new in this database from the stream and the old rows: a replacement, never an upsert.
    ``count_text=False`` spares an upsert counting the non-null rows of each text column
    (the whole table's), for a caller that trusts the running counts (see ``seal``).
    """
    q = quote(table)
    data_cols = [f.name for f in stream.schema if f.name != DELETED]
    col_list = ", ".join(quote(c) for c in data_cols)
    if existing is None:
        con.register("_sm_stream", stream)
        try:
            n = _count(
                con,
                f"CREATE TABLE {q} AS SELECT {col_list}, ?::TIMESTAMP AS {ENTERED} "
                f"FROM _sm_stream WHERE NOT {DELETED}",
                [run_ts],
            )
        finally:
            con.unregister("_sm_stream")
        return TableOutcome(rows_read=n, rows_written=n, rows_left=0, rows_in_mirror=n)
    rows_read, held = _stage(con, stream)
    try:
        old_cols = [c for c, _ in existing]
        same_columns = [c for c in old_cols if c != ENTERED] == data_cols
        if incremental and same_columns and previous is None:
            may_leave = held is None or bool(pc.any(held.column(DELETED)).as_py())
            written = _upsert(
                con,
                table,
                key,
                data_cols,
                text_columns,
                run_ts,
                old_fingerprint,
                rows_read,
                may_leave,
                held,
                count_text,
            )
            return _with_text_counts(con, written, held, text_columns)
        old = f"{quote(previous)}.main.{quote(table)}" if previous else None
        return _replace(
            con, table, key, data_cols, old_cols, run_ts, old_fingerprint, rows_read, old, held
        )
    finally:
        if held is None:
            con.execute(f"DROP TABLE IF EXISTS {STAGE}")


def _stage(
    con: duckdb.DuckDBPyConnection, stream: pa.RecordBatchReader
) -> tuple[int, pa.Table | None]:
    """Make ``stream`` queryable as ``_sm_stage``: its rows, and the Arrow table when it is
    held in memory.

    A small stream (an incremental run's changes) stays in memory as an Arrow table, which
    the statements below read through ``_count``; a bigger one, in rows or in bytes, is
    copied into a temporary table, which DuckDB spills to disk, so memory stays bounded
    (the caller drops it)."""
    held: list[pa.RecordBatch] = []
    rows = size = 0
    for batch in stream:
        held.append(batch)
        rows += batch.num_rows
        size += batch.nbytes
        if rows > STAGE_IN_MEMORY or size > STAGE_IN_MEMORY_BYTES:
            break
    else:
        return rows, pa.Table.from_batches(held, schema=stream.schema)
    rest = pa.RecordBatchReader.from_batches(stream.schema, itertools.chain(held, stream))
    con.register("_sm_stream", rest)
    try:
        rows = _count(con, f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT * FROM _sm_stream")
    finally:
        con.unregister("_sm_stream")
    return rows, None


# The Arrow tables a statement names ``_sm_stage`` and ``_sm_prev`` are read by DuckDB from
# the variables of those names in the function that runs it (a replacement scan), which
# spares creating and dropping a catalog entry for each (about a millisecond a table). A
# temporary table of the name, when there is one, comes first.


def _count(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[object] | None = None,
    *,
    stage: pa.Table | None = None,
    prev: pa.Table | None = None,
) -> int:
    """The single number ``sql`` answers (a count, or the rows a write statement changed);
    ``stage`` and ``prev`` are what it reads as ``_sm_stage`` and ``_sm_prev``."""
    _sm_stage, _sm_prev = stage, prev  # read by DuckDB, see above
    found = con.execute(sql, params or []).fetchall()
    return int(found[0][0]) if found else 0


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, *, stage: pa.Table | None) -> pa.Table:
    """What a query that reads the stage returns, as Arrow."""
    _sm_stage = stage  # read by DuckDB, see above
    return con.sql(sql).to_arrow_table()


def _upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: list[str],
    data_cols: list[str],
    text_columns: list[str],
    run_ts: datetime,
    fingerprint: str | None,
    rows_read: int,
    may_leave: bool,
    held: pa.Table | None,
    count_text: bool,
) -> tuple[TableOutcome, pa.Table]:
    """Replace or delete the staged rows' keys; the outcome, and the rows replaced.
    ``may_leave`` is False when the stage is known to hold no deleted row; ``held`` is the
    stage when it is in memory; ``count_text``: count each text column's non-null rows."""
    q = quote(table)
    # The rows the stage replaces or deletes, with their keys and entry times (small; the
    # joins below are with the stage), then their deletion by row id. A scan that selects
    # them, then a delete, costs about half what DELETE ... RETURNING does (RETURNING
    # fetches each deleted row on its own); deleting by row id spares the delete a second
    # join on the key columns. No row changes the table in between: row ids hold.
    # A column of the table named ``rowid`` hides DuckDB's row id: the key joins again then.
    by_row_id = all(c.lower() != "rowid" for c in data_cols)
    returned = ", ".join(f"m.{quote(c)}" for c in dict.fromkeys([*key, ENTERED, *data_cols]))
    row_id = f"m.rowid AS {ROW_ID}, " if by_row_id else ""
    select = f"SELECT {row_id}{returned} FROM {q} m"
    replaced_rows = _arrow(
        con,
        f"{select} SEMI JOIN {STAGE} s ON {_join('m', 's', key)}"
        if rows_read
        else f"{select} LIMIT 0",  # nothing staged: nothing replaced
        stage=held,
    )
    _check_unique(table, key, replaced_rows)
    if replaced_rows.num_rows:
        _count(
            con,
            f"DELETE FROM {q} WHERE rowid IN (SELECT {ROW_ID} FROM _sm_prev)"
            if by_row_id
            else f"DELETE FROM {q} m USING {STAGE} s WHERE {_join('m', 's', key)}",
            stage=held,
            prev=replaced_rows,
        )
    left = (
        _count(
            con,
            f"INSERT INTO _sm_history SELECT ?, {row_key_sql('p', key)}, p.{ENTERED}, ?, ? "
            f"FROM _sm_prev p JOIN {STAGE} s ON {_join('s', 'p', key)} WHERE s.{DELETED}",
            [table, run_ts, fingerprint],
            stage=held,
            prev=replaced_rows,
        )
        if replaced_rows.num_rows and may_leave
        else 0
    )
    select_cols = ", ".join(f"s.{quote(c)}" for c in data_cols)
    written = (
        _count(
            con,
            f"INSERT INTO {q} SELECT {select_cols}, coalesce(p.{ENTERED}, ?::TIMESTAMP) FROM "
            f"{STAGE} s LEFT JOIN _sm_prev p ON {_join('s', 'p', key)} WHERE NOT s.{DELETED}",
            [run_ts],
            stage=held,
            prev=replaced_rows,
        )
        if rows_read
        else 0
    )
    # Rows read again as they were (at the watermark, or in a lookback) are not counted as
    # written: a run that finds nothing changed says so.
    # Compared by key and a hash of every column, so the join holds no wide values (a
    # collision only counts a changed row as unchanged in this figure).
    keys = ", ".join(quote(c) for c in key)
    digest = f"hash({', '.join(quote(c) for c in data_cols)}) AS _sm_digest"
    unchanged = (
        _count(
            con,
            f"SELECT count(*) FROM (SELECT {keys}, {digest} FROM {STAGE} WHERE NOT {DELETED}) s "
            f"JOIN (SELECT {keys}, {digest} FROM _sm_prev) p ON {_join('s', 'p', key)} "
            "AND s._sm_digest = p._sm_digest",
            stage=held,
            prev=replaced_rows,
        )
        if replaced_rows.num_rows and written
        else 0
    )
    # The table's rows and (when asked) each text column's non-null rows, in one scan (the
    # text counts are checked against these).
    counted = [f"count({quote(c)})" for c in text_columns] if count_text else []
    totals = con.execute(f"SELECT {', '.join(['count(*)', *counted])} FROM {q}").fetchall()[0]
    non_null = (
        {c: int(n) for c, n in zip(text_columns, totals[1:], strict=True)} if count_text else None
    )
    outcome = TableOutcome(rows_read, written - unchanged, left, int(totals[0]), non_null=non_null)
    return outcome, replaced_rows


_READ_ALIKE = (
    "the source's own primary key holds keys that differ there but read alike (SQLite "
    "keeps 1, '1' and x'31' apart, text that is not valid UTF-8 reads with U+FFFD, and a "
    "numeric without a precision of at most 38 digits reads as a double, rounded beyond "
    "15-17 significant digits): store each key once, as one type and valid text (a numeric "
    "key as numeric(p) with p <= 38), then run 'safemirror sync --full'"
)


def _not_unique(table: str, key: list[str], what: str, *, declared: bool = False) -> PolicyError:
    return PolicyError(
        f"table '{table}': the primary key ({', '.join(key)}) is not unique: {what}; "
        "nothing was published",
        hint=_READ_ALIKE
        if declared
        else "declare as primary_key column(s) that identify one row, then run "
        "'safemirror sync --full'",
    )


def _check_unique(table: str, key: list[str], replaced_rows: pa.Table) -> None:
    """Refuse to replace rows whose key several mirror rows share: the policy's key does not
    identify a row, and replacing them would lose the ones that did not change."""
    if replaced_rows.num_rows < 2:
        return
    distinct = replaced_rows.group_by(key).aggregate([]).num_rows
    if distinct < replaced_rows.num_rows:
        shared = replaced_rows.num_rows - distinct
        raise _not_unique(
            table, key, f"{shared} more mirror row(s) share a key with the rows that changed"
        )


def check_unique_key(
    con: duckdb.DuckDBPyConnection, table: str, key: list[str], *, declared: bool = False
) -> None:
    """Refuse a mirror table in which several rows share a key (one scan of the table: for
    a key the source does not keep unique as read; ``declared``: its own primary key)."""
    columns = ", ".join(quote(c) for c in key)
    (shared,) = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {quote(table)} GROUP BY {columns} "
        "HAVING count(*) > 1)"
    ).fetchall()[0]
    if shared:
        what = f"{shared} key(s) are held by several rows"
        raise _not_unique(table, key, what, declared=declared)


def _with_text_counts(
    con: duckdb.DuckDBPyConnection,
    written: tuple[TableOutcome, pa.Table],
    held: pa.Table | None,
    text_columns: list[str],
) -> TableOutcome:
    """An upsert's outcome with the text values it wrote and those it removed."""
    outcome, replaced_rows = written
    if held is not None:  # counted in memory: no query per column
        added = count_arrow(held.filter(pc.invert(held.column(DELETED))), text_columns)
    else:
        added = count_columns(con, f"(SELECT * FROM {STAGE} WHERE NOT {DELETED})", text_columns)
    return replace(outcome, added=added, removed=count_arrow(replaced_rows, text_columns))


def _replace(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: list[str],
    data_cols: list[str],
    old_cols: list[str],
    run_ts: datetime,
    fingerprint: str | None,
    rows_read: int,
    old: str | None,
    held: pa.Table | None,
) -> TableOutcome:
    """Rebuild ``table`` from the stage (``held``, when in memory), keeping entry times of
    rows it had and recording the rows that left. ``old`` names the existing table when it
    is in another database (the new one is then created here); None replaces it in place."""
    q = quote(table)
    new = q if old is not None else quote(table + REBUILT_SUFFIX)  # built beside the old one
    source_table = old or q
    comparable = all(c in old_cols for c in key)
    live = f"(SELECT * FROM {STAGE} WHERE NOT {DELETED})"
    if comparable:
        departed = (
            f"SELECT ?, {row_key_sql('m', key)}, m.{ENTERED}, ?, ? FROM {source_table} m "
            f"WHERE NOT EXISTS (SELECT 1 FROM {live} s WHERE {_join('s', 'm', key)})"
        )
        entered = f"coalesce(m.{ENTERED}, ?::TIMESTAMP)"
        joined = f"{live} s LEFT JOIN {source_table} m ON {_join('s', 'm', key)}"
    else:
        departed = (
            f"SELECT ?, 'row ' || CAST(rowid AS VARCHAR), {ENTERED}, ?, ? FROM {source_table}"
        )
        entered, joined = "?::TIMESTAMP", f"{live} s"
    left = _count(
        con, f"INSERT INTO _sm_history {departed}", [table, run_ts, fingerprint], stage=held
    )
    select_cols = ", ".join(f"s.{quote(c)}" for c in data_cols)
    written = _count(
        con,
        f"CREATE OR REPLACE TABLE {new} AS SELECT {select_cols}, {entered} AS {ENTERED} "
        f"FROM {joined}",
        [run_ts],
        stage=held,
    )
    if old is None:
        con.execute(f"DROP TABLE {q}")
        con.execute(f"ALTER TABLE {new} RENAME TO {q}")
    return TableOutcome(rows_read, written, left, written)


def drop_unlisted(con: duckdb.DuckDBPyConnection, layout: Layout, keep: set[str]) -> list[str]:
    """Drop mirror tables (of ``layout``) the policy no longer mirrors (e.g. now skipped)."""
    dropped = []
    for name in layout:
        if not is_system(name) and name not in keep:
            con.execute(f"DROP TABLE IF EXISTS {quote(name)}")
            dropped.append(name)
    return dropped

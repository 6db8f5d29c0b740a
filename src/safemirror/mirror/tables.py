"""Apply one table's transformed stream to the mirror, keeping presence history.

Every mirrored row carries ``_sm_entered_at`` (when it entered the mirror). A row that
leaves (soft-deleted at the source, vanished on a full sync, or re-keyed by a new key)
is recorded in ``_sm_history`` with its entry and exit times, so the rows present at any
instant can be listed afterwards (``presence.present_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from safemirror.mirror.schema import DELETED, ENTERED, STAGE, is_system, quote


@dataclass(frozen=True)
class TableOutcome:
    rows_read: int
    rows_written: int
    rows_left: int
    rows_in_mirror: int


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return (
        _count(
            con,
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
            [table],
        )
        > 0
    )


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' "
        "AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


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
    incremental: bool,
    run_ts: datetime,
    old_fingerprint: str | None,
) -> TableOutcome:
    """Replace (full) or upsert (incremental) ``table`` from ``stream``.

    ``stream`` carries the mirror columns plus ``_sm_deleted``; deleted rows leave.
    """
    q = quote(table)
    data_cols = [f.name for f in stream.schema if f.name != DELETED]
    col_list = ", ".join(quote(c) for c in data_cols)
    exists = _exists(con, table)
    con.register("_sm_stream", stream)
    try:
        if not exists:
            n = _count(
                con,
                f"CREATE TABLE {q} AS SELECT {col_list}, ?::TIMESTAMP AS {ENTERED} "
                f"FROM _sm_stream WHERE NOT {DELETED}",
                [run_ts],
            )
            return TableOutcome(rows_read=n, rows_written=n, rows_left=0, rows_in_mirror=n)
        rows_read = _count(con, f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT * FROM _sm_stream")
    finally:
        con.unregister("_sm_stream")
    same_shape = [c for c, _ in _columns(con, table) if c != ENTERED] == data_cols
    if incremental and same_shape:
        outcome = _upsert(con, table, key, data_cols, run_ts, old_fingerprint, rows_read)
    else:
        outcome = _replace(con, table, key, data_cols, run_ts, old_fingerprint, rows_read)
    con.execute(f"DROP TABLE IF EXISTS {STAGE}")
    return outcome


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    """The single number ``sql`` answers: a count, or the rows a write statement changed."""
    found = con.execute(sql, params or []).fetchall()
    return int(found[0][0]) if found else 0


def _upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: list[str],
    data_cols: list[str],
    run_ts: datetime,
    fingerprint: str | None,
    rows_read: int,
) -> TableOutcome:
    q = quote(table)
    before = _count(con, f"SELECT count(*) FROM {q}")
    prev_keys = ", ".join(f"m.{quote(c)}" for c in key)
    con.execute(  # mirror rows the stage replaces or deletes: keys, entry time, deleted?
        f"CREATE OR REPLACE TEMP TABLE _sm_prev AS SELECT {prev_keys}, m.{ENTERED}, "
        f"s.{DELETED} FROM {q} m JOIN {STAGE} s ON {_join('s', 'm', key)}"
    )
    left = _count(
        con,
        f"INSERT INTO _sm_history SELECT ?, {row_key_sql('p', key)}, p.{ENTERED}, ?, ? "
        f"FROM _sm_prev p WHERE p.{DELETED}",
        [table, run_ts, fingerprint],
    )
    replaced = _count(con, f"DELETE FROM {q} m USING _sm_prev p WHERE {_join('m', 'p', key)}")
    select_cols = ", ".join(f"s.{quote(c)}" for c in data_cols)
    written = _count(
        con,
        f"INSERT INTO {q} SELECT {select_cols}, coalesce(p.{ENTERED}, ?::TIMESTAMP) "
        f"FROM {STAGE} s LEFT JOIN _sm_prev p ON {_join('s', 'p', key)} WHERE NOT s.{DELETED}",
        [run_ts],
    )
    con.execute("DROP TABLE IF EXISTS _sm_prev")
    return TableOutcome(rows_read, written, left, before - replaced + written)


def _replace(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: list[str],
    data_cols: list[str],
    run_ts: datetime,
    fingerprint: str | None,
    rows_read: int,
) -> TableOutcome:
    q, new = quote(table), quote(table + "__sm_new")
    old_cols = {c for c, _ in _columns(con, table)}
    comparable = all(c in old_cols for c in key)
    live = f"(SELECT * FROM {STAGE} WHERE NOT {DELETED})"
    if comparable:
        departed = (
            f"SELECT ?, {row_key_sql('m', key)}, m.{ENTERED}, ?, ? FROM {q} m "
            f"WHERE NOT EXISTS (SELECT 1 FROM {live} s WHERE {_join('s', 'm', key)})"
        )
        entered = f"coalesce(m.{ENTERED}, ?::TIMESTAMP)"
        joined = f"{live} s LEFT JOIN {q} m ON {_join('s', 'm', key)}"
    else:
        departed = f"SELECT ?, 'row ' || CAST(rowid AS VARCHAR), {ENTERED}, ?, ? FROM {q}"
        entered, joined = "?::TIMESTAMP", f"{live} s"
    left = _count(con, f"INSERT INTO _sm_history {departed}", [table, run_ts, fingerprint])
    select_cols = ", ".join(f"s.{quote(c)}" for c in data_cols)
    written = _count(
        con,
        f"CREATE OR REPLACE TABLE {new} AS SELECT {select_cols}, {entered} AS {ENTERED} "
        f"FROM {joined}",
        [run_ts],
    )
    con.execute(f"DROP TABLE {q}")
    con.execute(f"ALTER TABLE {new} RENAME TO {q}")
    return TableOutcome(rows_read, written, left, written)


def drop_unlisted(con: duckdb.DuckDBPyConnection, keep: set[str]) -> list[str]:
    """Drop mirror tables the policy no longer mirrors (e.g. a table now skipped)."""
    dropped = []
    for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = "
        "'main' AND NOT internal AND NOT temporary"
    ).fetchall():
        if not is_system(str(name)) and str(name) not in keep:
            con.execute(f"DROP TABLE {quote(str(name))}")
            dropped.append(str(name))
    return dropped

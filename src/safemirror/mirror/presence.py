"""Which rows were in the mirror at a given instant or during a window."""

from __future__ import annotations

from datetime import datetime

import duckdb

from safemirror.mirror.schema import ENTERED, quote
from safemirror.mirror.tables import row_key_sql


def present_between(
    con: duckdb.DuckDBPyConnection, table: str, key: list[str], start: datetime, end: datetime
) -> list[str]:
    """Row keys present at any moment of ``[start, end]`` (``start == end``: an instant)."""
    rows = con.execute(
        f"SELECT {row_key_sql('t', key)} AS k FROM {quote(table)} t WHERE t.{ENTERED} <= ? "
        "UNION SELECT row_key FROM _sm_history WHERE table_name = ? AND entered_at <= ? "
        "AND left_at > ? ORDER BY k",
        [end, table, end, start],
    ).fetchall()
    return [str(r[0]) for r in rows]


def present_at(
    con: duckdb.DuckDBPyConnection, table: str, key: list[str], instant: datetime
) -> list[str]:
    """Row keys present in the mirror at ``instant``."""
    return present_between(con, table, key, instant, instant)

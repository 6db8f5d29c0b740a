"""The versions of the rows at a table's mark, looked up before a read in full (see
``pg_sql``): within a time limit, because without an index on the cursor the look-up
scans the table."""

from __future__ import annotations

from typing import Any

import adbc_driver_manager

from safemirror.sources.pg_sql import AT_MARK_MS


def versions_before(cur: Any, sql: str, versions: set[int]) -> None:
    """Add the versions ``sql`` finds to ``versions``, unless it takes over ``AT_MARK_MS``
    (then none: the next run reads those rows again). The session's own time limit is
    restored whatever happens; if that fails, the error stops the read that was to follow."""
    cur.execute(f"SET statement_timeout = {AT_MARK_MS}")
    try:
        cur.execute(sql)
        found = cur.fetch_arrow_table().column(0)
    except adbc_driver_manager.Error:
        found = None
    finally:
        cur.execute("RESET statement_timeout")
    if found is not None:
        versions.update(v for v in found.to_pylist() if v is not None)

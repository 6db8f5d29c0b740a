"""The mirror's system tables and column names (everything prefixed ``_sm_``)."""

from __future__ import annotations

SYSTEM_PREFIX = "_sm_"
ENTERED = "_sm_entered_at"
DELETED = "_sm_deleted"  # only in the stream: a row the source has soft-deleted
STAGE = "_sm_stage"
PREVIOUS = "_sm_previous"  # a full run's read-only view of the mirror it replaces
WORKING = "_sm_working"  # the working copy, as a sync's DuckDB instance names it
REBUILT_SUFFIX = "__sm_new"  # a table rebuilt in place is built beside it under this suffix

# DuckDB settings every connection to a mirror file takes: nothing is fetched from the
# network, so a file DuckDB takes for another format (a SQLite database, say) is refused,
# not answered with an extension download.
OFFLINE: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

SYSTEM_DDL = {  # system table -> its definition
    "_sm_runs": """CREATE TABLE IF NOT EXISTS _sm_runs (
        run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP,
        mode VARCHAR, policy_hash VARCHAR, key_fingerprint VARCHAR, source VARCHAR,
        schema_snapshot JSON, row_counts JSON, duration_s DOUBLE)""",
    "_sm_state": """CREATE TABLE IF NOT EXISTS _sm_state (
        table_name VARCHAR PRIMARY KEY, watermark JSON, table_policy_hash VARCHAR,
        key_fingerprint VARCHAR, updated_at TIMESTAMP)""",
    "_sm_history": """CREATE TABLE IF NOT EXISTS _sm_history (
        table_name VARCHAR, row_key VARCHAR, entered_at TIMESTAMP, left_at TIMESTAMP,
        key_fingerprint VARCHAR)""",
    "_sm_text_counts": """CREATE TABLE IF NOT EXISTS _sm_text_counts (
        table_name VARCHAR, column_name VARCHAR, value VARCHAR, n BIGINT)""",
}


def quote(identifier: str) -> str:
    """Quote an SQL identifier for DuckDB."""
    return '"' + identifier.replace('"', '""') + '"'


def is_system(name: str) -> bool:
    return name.startswith(SYSTEM_PREFIX)


def reserved_name(name: str) -> bool:
    """True for a name the mirror keeps for itself (DuckDB ignores case)."""
    folded = name.lower()
    return folded.startswith(SYSTEM_PREFIX) or folded.endswith(REBUILT_SUFFIX)

"""A table empty at the first sync gets the same mirror types as a filled one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import psycopg

from safemirror.config import ProjectConfig
from safemirror.sync.run import run_sync
from tests.sync.tiny import kept_table

MakeProject = Callable[..., ProjectConfig]

POLICY: dict[str, Any] = {
    "version": 1,
    "tables": {"payments": kept_table(id="bigint", amount="numeric", updated_at="timestamp")},
}


def mirror_types(config: ProjectConfig) -> dict[str, str]:
    con = duckdb.connect(str(config.mirror), read_only=True)
    try:
        rows = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'payments'"
        ).fetchall()
    finally:
        con.close()
    return {str(name): str(kind) for name, kind in rows}


def test_empty_numeric_table_keeps_its_decimal_type(pg_url: str, make_project: MakeProject) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE payments (id bigint PRIMARY KEY, amount numeric(10, 2), "
            "updated_at timestamptz NOT NULL)"
        )
    project = make_project(pg_url, POLICY)
    run_sync(project)
    empty_types = mirror_types(project)
    assert empty_types["amount"].startswith("DECIMAL"), empty_types
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("INSERT INTO payments VALUES (1, 12.34, now())")
    result = run_sync(project)
    assert result.tables["payments"].rows_in_mirror == 1
    assert mirror_types(project) == empty_types
    con2 = duckdb.connect(str(project.mirror), read_only=True)
    try:
        assert con2.execute("SELECT amount::VARCHAR FROM payments").fetchall() == [("12.34",)]
    finally:
        con2.close()

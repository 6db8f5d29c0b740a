"""Text that is not valid UTF-8: SQLite keeps whatever bytes an application wrote, and so
does PostgreSQL in a SQL_ASCII database. A sync reads such a value with U+FFFD in place of
its bad bytes (Arrow and DuckDB take UTF-8 only), verifies what it wrote, and says which
columns held one in a note."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from safemirror.audit import AuditLog
from safemirror.config import ProjectConfig
from safemirror.policy.suggest import suggest_policy
from safemirror.sources.registry import open_source
from safemirror.sync.run import run_sync

POLICY: dict[str, Any] = {
    "version": 1,
    "tables": {
        "people": {
            "primary_key": ["handle"],
            "columns": {
                "handle": {"action": "pseudonymize", "domain": "person"},
                "city": "keep",
                "nickname": "drop",
            },
        }
    },
}
# handle, city, nickname: the bytes 0xff and a lone 0xc3 are not UTF-8
ROWS = [
    ("ann", b"Paris", b"annie"),
    (b"b\xffb", b"Z\xc3rich", b"bobby\xff"),
    ("cy", "Zürich".encode(), b"cyc"),
]


def cities(project: ProjectConfig) -> list[str]:
    with duckdb.connect(str(project.mirror), read_only=True) as con:
        return sorted(city for (city,) in con.execute("SELECT city FROM people").fetchall())


def assert_repaired(project: ProjectConfig) -> None:
    result = run_sync(project)
    assert result.tables["people"].rows_written == 3
    assert cities(project) == sorted(["Paris", "Z\ufffdrich", "Zürich"])
    (note,) = [n for n in result.notes if "UTF-8" in n]
    assert note.startswith("people.city, people.handle")  # those the sync read

    assert "\ufffd" not in note and "bobby" not in note  # names the columns, never a value
    *_, last = AuditLog(project.audit_log).entries()
    assert note in last.data["notes"]
    with duckdb.connect(str(project.mirror), read_only=True) as con:
        handles = con.execute("SELECT handle FROM people ORDER BY handle").fetchall()
    run_sync(project)  # read again, the same way: the same pseudonyms
    with duckdb.connect(str(project.mirror), read_only=True) as con:
        assert con.execute("SELECT handle FROM people ORDER BY handle").fetchall() == handles


def test_sqlite_text_that_is_not_utf8_is_repaired_and_named(
    tmp_path: Path, make_project: Callable[..., ProjectConfig]
) -> None:
    path = tmp_path / "prod.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (handle TEXT PRIMARY KEY, city TEXT, nickname TEXT)")
        db.executemany(
            "INSERT INTO people VALUES (CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))",
            [tuple(v.encode() if isinstance(v, str) else v for v in row) for row in ROWS],
        )
    url = f"sqlite:///{path}"
    with open_source(url) as source:  # type: ignore[attr-defined]
        assert "      city: {action: " in suggest_policy(source)  # sampled, classified
    assert_repaired(make_project(url, POLICY))


@pytest.fixture
def sql_ascii_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database whose encoding is SQL_ASCII: it stores text as the bytes it gets."""
    name = f"sm_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' "
            "LC_CTYPE 'C' TEMPLATE template0"
        )
    try:
        yield f"{pg_admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.postgres
def test_postgresql_sql_ascii_text_that_is_not_utf8_is_repaired_and_named(
    sql_ascii_url: str, make_project: Callable[..., ProjectConfig]
) -> None:
    with psycopg.connect(sql_ascii_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE people (handle text PRIMARY KEY, city text, nickname text)")
        for row in ROWS:
            conn.execute(
                "INSERT INTO people VALUES (convert_from(%s, 'SQL_ASCII'), "
                "convert_from(%s, 'SQL_ASCII'), convert_from(%s, 'SQL_ASCII'))",
                [v.encode() if isinstance(v, str) else v for v in row],
            )
    assert_repaired(make_project(sql_ascii_url, POLICY))

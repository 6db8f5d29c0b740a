"""An incremental run replaces exactly the changed rows, whatever the table's columns are
named, leaves a table with no changes as it was, and refuses rows it could not identify."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from safemirror.audit import AuditLog
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode, PolicyError
from safemirror.sync import writes
from safemirror.sync.run import run_sync
from tests.sync.tiny import file_digest, kept_table, rows

MakeProject = Callable[..., ProjectConfig]

POLICY: dict[str, Any] = {
    "version": 1,
    "tables": {
        "things": kept_table(id="bigint", rowid="bigint", label="text", updated_at="timestamp"),
        "quiet": kept_table(id="bigint", label="text", updated_at="timestamp"),
    },
}


def test_a_column_named_rowid_does_not_steer_the_upsert(
    pg_url: str, make_project: MakeProject
) -> None:
    # DuckDB's row id is hidden by a column of that name; the values here repeat (0, 1, 2),
    # so an upsert that deleted by them would take most of the table with the changed rows.
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE things (id bigint PRIMARY KEY, rowid bigint, label text, "
            "updated_at timestamptz NOT NULL)"
        )
        con.execute(
            "INSERT INTO things SELECT g, g % 3, 'v' || g, "
            "'2025-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 50) g"
        )
        con.execute(
            "CREATE TABLE quiet (id bigint PRIMARY KEY, label text, updated_at timestamptz)"
        )
        con.execute("INSERT INTO quiet VALUES (1, 'a', '2025-01-01'), (2, 'b', '2025-01-01')")
    project = make_project(pg_url, POLICY)
    run_sync(project)
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE things SET label = 'changed', updated_at = now() WHERE id IN (3, 4)")
        con.execute("DELETE FROM things WHERE id = 5")  # a hard delete stays (no marker)
    result = run_sync(project)
    assert result.manifest.mode == "incremental"
    assert result.tables["things"].rows_in_mirror == 50
    things = rows(project, "SELECT id, rowid, label FROM things ORDER BY id")
    assert len(things) == 50
    assert things[2:5] == [(3, 0, "changed"), (4, 1, "changed"), (5, 2, "v5")]
    assert [r[0] for r in things] == list(range(1, 51))


def test_a_table_without_changes_is_left_as_it_was(pg_url: str, make_project: MakeProject) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE things (id bigint PRIMARY KEY, rowid bigint, label text, "
            "updated_at timestamptz NOT NULL)"
        )
        con.execute("INSERT INTO things VALUES (1, 1, 'x', '2025-01-01')")
        con.execute(
            "CREATE TABLE quiet (id bigint PRIMARY KEY, label text, updated_at timestamptz)"
        )
        con.execute("INSERT INTO quiet VALUES (1, 'a', '2025-01-01'), (2, NULL, '2025-01-02')")
    project = make_project(pg_url, POLICY)
    run_sync(project)
    run_sync(project)  # reads again the rows at the watermark (a full run records no versions)
    before = rows(project, "SELECT * FROM quiet ORDER BY id")
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE things SET label = 'y', updated_at = now() WHERE id = 1")
    result = run_sync(project)
    quiet = result.tables["quiet"]
    assert (quiet.rows_read, quiet.rows_written, quiet.rows_left) == (0, 0, 0)
    assert quiet.rows_in_mirror == 2
    assert quiet.non_null is None  # the mirror is as sealed: its text counts are trusted
    assert rows(project, "SELECT * FROM quiet ORDER BY id") == before
    assert result.verify.ok


def test_rows_with_a_null_key_stop_the_run_and_leave_the_mirror(
    tmp_path: Path, make_project: MakeProject
) -> None:
    # SQLite lets a non-integer primary key hold NULL: such rows could not be replaced, and
    # every incremental run would add them again.
    db = sqlite3.connect(tmp_path / "prod.db")
    db.execute("CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT, updated_at TIMESTAMP)")
    db.execute("INSERT INTO codes VALUES ('k', 'a', '2025-01-01 00:00:00')")
    db.commit()
    policy = {
        "version": 1,
        "tables": {
            "codes": {
                "primary_key": "code",
                "cursor": "updated_at",
                "columns": {"code": "keep", "label": "keep", "updated_at": "keep"},
            }
        },
    }
    project = make_project(f"sqlite:///{tmp_path / 'prod.db'}", policy)
    run_sync(project)
    digest = file_digest(project.mirror)
    db.execute("INSERT INTO codes VALUES (NULL, 'b', '2025-01-02 00:00:00')")
    db.execute("INSERT INTO codes VALUES (NULL, 'c', '2025-01-02 00:00:00')")
    db.commit()
    db.close()
    for full in (False, True):
        with pytest.raises(PolicyError) as caught:
            run_sync(project, full=full)
        assert caught.value.exit_code == ExitCode.POLICY
        assert "2 row(s) hold NULL in primary key column 'code'" in str(caught.value)
        assert file_digest(project.mirror) == digest


def test_an_error_deep_in_a_table_is_reported_as_itself(
    tmp_path: Path, make_project: MakeProject
) -> None:
    """A NULL key in the fourth batch stops the run while DuckDB reads the stream, which
    reports it as an error of its own and aborts the transaction: the run raises the
    policy error, not DuckDB's report of it."""
    db = sqlite3.connect(tmp_path / "prod.db")
    db.execute("CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT, updated_at TIMESTAMP)")
    for i in range(30):
        db.execute("INSERT INTO codes VALUES (?, 'a', '2025-01-01 00:00:00')", (f"k{i}",))
    db.execute("INSERT INTO codes VALUES (NULL, 'b', '2025-01-02 00:00:00')")
    db.commit()
    db.close()
    policy = {
        "version": 1,
        "tables": {"codes": kept_table("code", code="text", label="text", updated_at="timestamp")},
    }
    project = make_project(f"sqlite:///{tmp_path / 'prod.db'}", policy)
    with pytest.raises(PolicyError, match="hold NULL in primary key column 'code'") as caught:
        run_sync(project, batch_rows=10)  # a first run creates its tables from the stream
    assert caught.value.exit_code == ExitCode.POLICY
    assert not project.mirror.exists()
    (failed,) = AuditLog(project.audit_log).entries()
    assert failed.data["exit_code"] == ExitCode.POLICY


def test_a_key_the_source_does_not_declare_unique_is_checked(
    pg_url: str, make_project: MakeProject
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:  # no primary key in the source
        con.execute("CREATE TABLE quiet (id bigint, label text, updated_at timestamptz)")
        con.execute("INSERT INTO quiet VALUES (1, 'a', '2025-01-01'), (2, 'c', '2025-01-02')")
    policy = {"version": 1, "tables": {"quiet": POLICY["tables"]["quiet"]}}
    project = make_project(pg_url, policy)
    run_sync(project)  # unique: fine
    digest = file_digest(project.mirror)
    with psycopg.connect(pg_url, autocommit=True) as con:  # two new rows with id 3
        con.execute("INSERT INTO quiet VALUES (3, 'd', now()), (3, 'e', now())")
    with pytest.raises(PolicyError, match=r"primary key \(id\) is not unique: 1 key\(s\)"):
        run_sync(project)
    assert file_digest(project.mirror) == digest
    with psycopg.connect(pg_url, autocommit=True) as con:
        # A later row with an earlier row's id reads, to an incremental run, as that row
        # updated; a full run sees both.
        con.execute("DELETE FROM quiet WHERE label = 'e'")
        con.execute("INSERT INTO quiet VALUES (2, 'f', now())")
    with pytest.raises(PolicyError, match="not unique"):
        run_sync(project, full=True)
    assert file_digest(project.mirror) == digest


def test_a_key_that_is_not_unique_stops_the_run_that_would_lose_rows(
    pg_url: str, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("CREATE TABLE quiet (id bigint, label text, updated_at timestamptz)")
        con.execute(
            "INSERT INTO quiet VALUES (1, 'a', '2025-01-01'), (1, 'b', '2025-01-01'), "
            "(2, 'c', '2025-01-02')"
        )
    policy = {"version": 1, "tables": {"quiet": POLICY["tables"]["quiet"]}}
    project = make_project(pg_url, policy)
    with monkeypatch.context() as older:  # a mirror that let the shared key in
        older.setattr(writes, "check_unique_key", lambda *_, **__: None)
        run_sync(project)
        run_sync(project)  # reads again the rows at the watermark (a full run records none)
    digest = file_digest(project.mirror)
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE quiet SET label = 'a2', updated_at = now() WHERE label = 'a'")
    with pytest.raises(PolicyError) as caught:  # replacing id 1 would also take row 'b'
        run_sync(project)
    assert "primary key (id) is not unique: 1 more mirror row(s)" in str(caught.value)
    assert file_digest(project.mirror) == digest


def test_sqlite_keys_that_read_alike_stop_the_run(
    tmp_path: Path, make_project: MakeProject
) -> None:
    """SQLite keeps 1, '1' and x'31' apart in an untyped key column, and two byte strings
    that are not valid UTF-8 apart in a TEXT one; read, each pair is one key. A mirror
    holding both would be refused by every incremental run after it."""
    db = sqlite3.connect(tmp_path / "prod.db")
    db.execute("CREATE TABLE a (k PRIMARY KEY, label TEXT, updated_at TIMESTAMP)")
    db.execute("CREATE TABLE b (k TEXT PRIMARY KEY, label TEXT, updated_at TIMESTAMP)")
    db.execute("INSERT INTO a VALUES (1, 'x', '2025-01-01'), ('2', 'y', '2025-01-01')")
    db.execute("INSERT INTO b VALUES ('p', 'x', '2025-01-01'), ('q', 'y', '2025-01-01')")
    db.commit()
    policy = {
        "version": 1,
        "tables": {
            name: kept_table("k", k="text", label="text", updated_at="timestamp")
            for name in ("a", "b")
        },
    }
    project = make_project(f"sqlite:///{tmp_path / 'prod.db'}", policy)
    run_sync(project)  # distinct as read: fine
    digest = file_digest(project.mirror)
    for table, twin in (("a", "'1'"), ("b", "CAST(x'71ff' AS TEXT)")):
        db.execute(f"INSERT INTO {table} VALUES ({twin}, 'z', '2025-01-02')")
        if table == "b":
            db.execute("UPDATE b SET k = CAST(x'71fe' AS TEXT) WHERE k = 'q'")
        db.commit()
        for full in (False, True):
            with pytest.raises(PolicyError) as caught:
                run_sync(project, full=full)
            assert f"table '{table}': the primary key (k) is not unique" in str(caught.value)
            assert "read alike" in (caught.value.hint or "")
            assert file_digest(project.mirror) == digest
        db.execute(f"DELETE FROM {table} WHERE label = 'z'")
        db.commit()
    db.close()

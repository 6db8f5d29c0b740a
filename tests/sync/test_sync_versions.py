"""Incremental syncs from PostgreSQL read the rows at the watermark once, not on every run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import psycopg
import pytest

from safemirror.audit import AuditLog
from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode, SourceError
from safemirror.sources import pg_versions
from safemirror.sources import postgres as pg_source
from safemirror.sync.run import run_sync
from tests.sync.tiny import TINY_SCHEMA, file_digest, rows, stamp

pytestmark = pytest.mark.postgres

MakeProject = Callable[..., ProjectConfig]


@pytest.fixture
def production(pg_url: str) -> Iterator[psycopg.Connection]:
    """The tiny production in PostgreSQL; every device written by one transaction at one
    instant (a bulk update), so the devices' watermark is shared by all of them."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(TINY_SCHEMA)
        with conn.transaction():
            for i in range(1, 21):
                conn.execute(
                    "INSERT INTO users VALUES (%s, %s, %s, %s, %s, NULL)",
                    (i, f"person{i}@example.org", "US", stamp(1 + i % 9, 8), stamp(1 + i % 9, 8)),
                )
        with conn.transaction():
            for i in range(1, 21):
                conn.execute(
                    "INSERT INTO devices VALUES (%s, %s, %s, 'Cam Pro 2', %s, NULL)",
                    (100 + i, i, f"Nursery of person {i}", stamp(2)),
                )
        yield conn


@pytest.fixture
def project(
    production: psycopg.Connection, pg_url: str, make_project: MakeProject
) -> ProjectConfig:
    return make_project(pg_url)


def test_rows_at_the_watermark_are_read_once(project: ProjectConfig) -> None:
    """The full run looks the versions at the mark up before it reads: the next run reads
    none of the bulk update's rows again."""
    run_sync(project)
    before = rows(project, "SELECT * FROM devices ORDER BY ALL")
    for _ in range(2):
        again = run_sync(project)
        assert {n: o.rows_read for n, o in again.tables.items()} == {"users": 0, "devices": 0}
    assert rows(project, "SELECT * FROM devices ORDER BY ALL") == before


def test_a_slow_look_up_of_versions_records_none_and_leaves_no_time_limit(
    project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look-up that outlasts its limit (a table scanned in vain) records nothing: the
    ties are read again by the next run, and the read itself is not cut short."""
    monkeypatch.setattr(pg_versions, "AT_MARK_MS", 50)
    monkeypatch.setattr(
        pg_source,
        "versions_at_mark",
        lambda *args: "SELECT (pg_sleep(0.5)::text || '7')::bigint AS v",
    )
    slow_read = pg_source.PostgresSource._stream

    def read_slowly(self: pg_source.PostgresSource, sql: str, *args: Any, **kw: Any) -> Any:
        nap = " AND " if " WHERE " in sql else " WHERE "  # 5 ms a row: 100 ms for 20
        yield from slow_read(self, sql + nap + "pg_sleep(0.005)::text = ''", *args, **kw)

    monkeypatch.setattr(pg_source.PostgresSource, "_stream", read_slowly)
    full = run_sync(project)
    assert full.tables["devices"].rows_read == 20
    monkeypatch.undo()
    assert run_sync(project).tables["devices"].rows_read == 20  # no versions were recorded
    assert run_sync(project).tables["devices"].rows_read == 0


def test_rows_written_at_the_watermark_later_are_read(
    project: ProjectConfig, production: psycopg.Connection
) -> None:
    run_sync(project)
    run_sync(project)
    # Later transactions at the devices' watermark itself: a new device, a device changed
    # without moving its cursor, a device soft-deleted at the same instant.
    production.execute(
        "INSERT INTO devices VALUES (121, 1, 'late', 'Cam Mini', %s, NULL)", (stamp(2),)
    )
    production.execute("UPDATE devices SET model = 'Cam Pro 3' WHERE id = 105")
    production.execute("UPDATE devices SET deleted_at = %s WHERE id = 106", (stamp(2),))
    result = run_sync(project)
    assert result.tables["devices"].rows_read == 3
    assert result.tables["devices"].rows_left == 1
    assert rows(project, "SELECT count(*) FROM devices") == [(20,)]  # +1 new, -1 deleted
    models = rows(project, "SELECT model, count(*) FROM devices GROUP BY 1 ORDER BY 1")
    assert models == [("Cam Mini", 1), ("Cam Pro 2", 18), ("Cam Pro 3", 1)]
    assert run_sync(project).tables["devices"].rows_read == 0


def test_a_damaged_version_record_is_refused(project: ProjectConfig) -> None:
    run_sync(project)
    run_sync(project)
    con = duckdb.connect(str(project.mirror))
    con.execute(
        "UPDATE _sm_state SET watermark = json_object('t', 'json', 'v', 1, "
        "'read_at_mark', json_array('1); DROP TABLE devices; --')) WHERE table_name = 'devices'"
    )
    con.close()
    digest = file_digest(project.mirror)
    with pytest.raises(SourceError, match="watermark record is damaged"):
        run_sync(project)
    assert file_digest(project.mirror) == digest


def test_a_deletion_committed_late_with_an_earlier_stamp_is_read(
    project: ProjectConfig, production: psycopg.Connection, pg_url: str
) -> None:
    """A transaction stamps its rows with its start (``now()``) but commits after a run:
    the watermark that run takes must not pass that start, or the rows are never read."""
    run_sync(project)
    with psycopg.connect(pg_url) as late:
        late.execute("SET TIME ZONE 'UTC'")
        late.execute("UPDATE users SET deleted_at = now(), updated_at = now() WHERE id = 3")
        production.execute("SET TIME ZONE 'UTC'")
        production.execute("UPDATE users SET country = 'FR', updated_at = now() WHERE id = 4")
        during = run_sync(project)  # the deletion is not committed yet
        assert during.tables["users"].rows_left == 0
        assert rows(project, "SELECT country FROM users WHERE country = 'FR'") == [("FR",)]
        late.commit()
    after = run_sync(project)
    assert after.tables["users"].rows_left == 1
    assert rows(project, "SELECT count(*) FROM users") == [(19,)]
    assert rows(project, "SELECT country FROM users WHERE country = 'FR'") == [("FR",)]
    assert run_sync(project).tables["users"].rows_read == 0  # then nothing more to read


def test_a_row_stamped_in_the_future_does_not_hide_later_changes(
    project: ProjectConfig, production: psycopg.Connection
) -> None:
    production.execute("SET TIME ZONE 'UTC'")
    production.execute("UPDATE users SET updated_at = now() + interval '5 years' WHERE id = 7")
    run_sync(project)
    production.execute("UPDATE users SET country = 'FR', updated_at = now() WHERE id = 8")
    result = run_sync(project)
    assert rows(project, "SELECT count(*) FROM users WHERE country = 'FR'") == [(1,)]
    assert result.tables["users"].rows_read == 2  # the change, and the future row again


def test_a_role_blind_to_other_roles_transactions_is_told_how_to_see(
    production: psycopg.Connection,
    pg_reader_url: str,
    make_project: MakeProject,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The fixture's session (another role) is on the database; the sync's role cannot
    see whether it holds a transaction open: the result and the audit log say so."""
    project = make_project(pg_reader_url)
    result = run_sync(project)
    (note,) = result.notes
    assert "GRANT pg_read_all_stats" in note
    (entry,) = AuditLog(project.audit_log).entries()
    assert entry.data["notes"] == [note]
    password = pg_reader_url.split(":", 2)[2].split("@", 1)[0]
    assert password not in project.audit_log.read_text()
    # and the command prints it under the result
    assert (
        run(["sync", "--quiet", "--config", str(project.base_dir / "safemirror.yaml")])
        == ExitCode.OK
    )
    assert "note:" in capsys.readouterr().out

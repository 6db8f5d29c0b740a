"""The sync over the generated demo production: PostgreSQL and SQLite, kill -9, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg
import pytest

from safemirror.audit import AuditLog
from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.demo.generate import generate
from safemirror.demo.mutate import mutate
from safemirror.errors import ExitCode
from safemirror.policy.load import load_policy
from safemirror.sync.run import run_sync
from tests.sync.tiny import TINY_POLICY, TINY_SCHEMA, file_digest

MakeProject = Callable[..., ProjectConfig]
DEMO_POLICY = Path(__file__).resolve().parents[2] / "src/safemirror/policy/demo_policy.yaml"


def demo_policy() -> dict[str, object]:
    return load_policy(DEMO_POLICY).model_dump(mode="json", exclude_none=True)


def mirror_scalar(config: ProjectConfig, sql: str) -> object:
    con = duckdb.connect(str(config.mirror), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


@pytest.mark.postgres
def test_postgres_sync_full_then_incremental(pg_url: str, make_project: MakeProject) -> None:
    generate(pg_url, scale=0.001, seed=3)
    project = make_project(pg_url, demo_policy())
    result = run_sync(project)
    with psycopg.connect(pg_url) as con:
        live_users = con.execute("SELECT count(*) FROM users WHERE deleted_at IS NULL").fetchone()
        live_devices_of_live_users = con.execute(
            "SELECT count(*) FROM devices d JOIN users u ON u.id = d.user_id "
            "WHERE d.deleted_at IS NULL AND u.deleted_at IS NULL"
        ).fetchone()
        events = con.execute("SELECT count(*) FROM connection_events").fetchone()
    assert live_users and live_devices_of_live_users and events
    assert result.tables["users"].rows_in_mirror == live_users[0]
    assert result.tables["connection_events"].rows_in_mirror == events[0]
    assert (
        mirror_scalar(project, "SELECT count(*) FROM devices d JOIN users u ON u.id = d.user_id")
        == live_devices_of_live_users[0]
    )
    assert result.verify.production_columns > 0 and result.verify.ok

    changed = mutate(pg_url, fraction=0.05, seed=5, at=datetime.now(UTC))
    again = run_sync(project)
    assert again.manifest.mode == "incremental"
    assert again.tables["connection_events"].rows_read <= changed["connection_events.inserted"] + 5
    with psycopg.connect(pg_url) as con:
        live_after = con.execute("SELECT count(*) FROM users WHERE deleted_at IS NULL").fetchone()
    assert live_after and again.tables["users"].rows_in_mirror == live_after[0]
    third = run_sync(project)
    assert third.tables["users"].rows_written <= again.tables["users"].rows_written


def test_cli_sync_and_verify_exit_codes(tmp_path: Path, make_project: MakeProject) -> None:
    db = tmp_path / "production.db"
    generate(f"sqlite:///{db}", scale=0.001, seed=4)
    project = make_project(f"sqlite:///{db}", demo_policy())
    config = str(project.base_dir / "safemirror.yaml")
    assert run(["verify", "--config", config]) == ExitCode.USAGE  # no mirror yet
    assert run(["sync", "--quiet", "--config", config]) == ExitCode.OK
    assert run(["verify", "--config", config]) == ExitCode.OK
    assert run(["policy", "check", "--config", config]) == ExitCode.OK
    assert run(["audit", "verify", "--log", str(project.audit_log)]) == ExitCode.OK


STOPS = pytest.mark.parametrize(
    ("stop", "code", "recorded"),
    [
        (signal.SIGTERM, ExitCode.TERMINATED, "terminated"),
        (signal.SIGINT, ExitCode.INTERRUPTED, "interrupted"),
    ],
)  # each stop, its exit code and what the audit log records


def _synced_demo(tmp_path: Path, make_project: MakeProject) -> ProjectConfig:
    """A demo production (SQLite, 600 k events) and its mirror."""
    db = tmp_path / "production.db"
    generate(f"sqlite:///{db}", scale=0.01, seed=6)
    project = make_project(f"sqlite:///{db}", demo_policy())
    run_sync(project)
    return project


def _full_sync_underway(project: ProjectConfig) -> subprocess.Popen[bytes]:
    """``safemirror sync --full`` in a child process, once it is well inside its work."""
    config = str(project.base_dir / "safemirror.yaml")
    command = ["sync", "--full", "--quiet", "--config", config]
    child = subprocess.Popen(
        [sys.executable, "-c", "from safemirror.cli import main; main()", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    work = list(project.mirror.parent.glob(".mirror.duckdb.sync-*"))
    deadline = time.monotonic() + 60
    while not work and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
        work = list(project.mirror.parent.glob(".mirror.duckdb.sync-*"))
    time.sleep(0.3)  # well inside the copy of 600 k events
    assert child.poll() is None, "the sync finished before it could be stopped"
    return child


def test_sigkill_mid_sync_leaves_the_previous_mirror(
    tmp_path: Path, make_project: MakeProject
) -> None:
    project = _synced_demo(tmp_path, make_project)
    before = file_digest(project.mirror)
    child = _full_sync_underway(project)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert file_digest(project.mirror) == before
    assert mirror_scalar(project, "SELECT count(*) FROM users") > 0  # still queryable
    result = run_sync(project, full=True)
    assert result.verify.ok
    assert not list(project.mirror.parent.glob(".mirror.duckdb.sync-*"))


@STOPS
def test_a_stopped_sync_cleans_up_and_records_it(
    tmp_path: Path, make_project: MakeProject, stop: int, code: int, recorded: str
) -> None:
    """A service manager (SIGTERM) or Ctrl-C stopping a sync: the run unwinds, removes its
    working copy, releases the lock and audits its end, whatever DuckDB was doing (it
    answers a signal during a query with an error of its own); the live mirror is as it
    was."""
    project = _synced_demo(tmp_path, make_project)
    before = file_digest(project.mirror)
    child = _full_sync_underway(project)
    os.kill(child.pid, stop)
    _, said = child.communicate(timeout=60)
    assert child.returncode == code
    assert said.decode().strip().splitlines()[-1] == recorded  # the user is told
    assert file_digest(project.mirror) == before
    assert not list(project.mirror.parent.glob(".mirror.duckdb.sync-*"))  # cleaned up at once
    log = AuditLog(project.audit_log)
    last = list(log.entries())[-1]
    assert (last.kind, last.data["error"], last.data["exit_code"]) == (
        "sync.failed",
        recorded,
        code,
    )
    assert log.verify().ok
    assert run_sync(project).verify.ok  # the lock was released


def _stopped_while_a_read_waits(pg_url: str, command: list[str], stop: int) -> tuple[int, str]:
    """Run the CLI ``command`` in a child process while ``devices`` is locked, send it
    ``stop`` once one of its reads waits on that lock, and return its exit code and the
    last line it wrote to stderr (the lock is still held when it exits)."""
    with psycopg.connect(pg_url) as locker:
        locker.execute("LOCK TABLE devices IN ACCESS EXCLUSIVE MODE")  # every read waits
        (holder,) = locker.execute("SELECT pg_backend_pid()").fetchone()  # type: ignore[misc]
        child = subprocess.Popen(
            [sys.executable, "-c", "from safemirror.cli import main; main()", *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            waiting = (  # this test's own database: a backend of another may wait on a lock
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> %s "
                "AND datname = current_database() AND wait_event_type = 'Lock'"
            )
            deadline = time.monotonic() + 60
            with psycopg.connect(pg_url, autocommit=True) as watcher:
                while not watcher.execute(waiting, (holder,)).fetchone()[0]:  # type: ignore[index]
                    assert child.poll() is None and time.monotonic() < deadline
                    time.sleep(0.05)
            os.kill(child.pid, stop)
            _, said = child.communicate(timeout=15)  # while the lock is still held
        finally:
            child.kill()
            locker.rollback()
    said_lines = said.decode().strip().splitlines()
    assert said_lines, f"exit {child.returncode} without a word"
    if child.returncode < 0:  # killed by the signal: show how, it should have unwound
        pytest.fail(f"exit {child.returncode}:\n" + "\n".join(said_lines))
    return child.returncode, said_lines[-1]


@pytest.mark.postgres
@STOPS
def test_a_stop_while_a_postgresql_read_waits_stops_the_sync_at_once(
    pg_url: str, make_project: MakeProject, stop: int, code: int, recorded: str
) -> None:
    """A read waiting on the server (here on a lock) is cancelled by a stop: the sync ends
    at once, reporting the stop, not a failed read. Python alone would act on SIGTERM only
    once the call returns, and the driver answers Ctrl-C with a cancel of its own."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(TINY_SCHEMA)
    project = make_project(pg_url, TINY_POLICY)
    config = f"--config={project.base_dir / 'safemirror.yaml'}"
    assert _stopped_while_a_read_waits(pg_url, ["sync", "-q", config], stop) == (code, recorded)
    last = list(AuditLog(project.audit_log).entries())[-1]
    assert (last.kind, last.data["error"]) == ("sync.failed", recorded)
    assert not project.mirror.exists()  # the first run published nothing
    assert not list(project.mirror.parent.glob(".mirror.duckdb.sync-*"))
    assert run_sync(project).verify.ok


@pytest.mark.postgres
@STOPS
@pytest.mark.parametrize("command", ["verify", "policy suggest"])
def test_a_stop_while_a_postgresql_read_waits_stops_any_command_at_once(
    pg_url: str, make_project: MakeProject, command: str, stop: int, code: int, recorded: str
) -> None:
    """The commands that read the source are stopped as the sync is: at once, saying so,
    not as a failed read (exit 5) nor killed without a word."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(TINY_SCHEMA)
        conn.execute("INSERT INTO devices (id, nickname, model) VALUES (1, 'kitchen', 'S1')")
    project = make_project(pg_url, TINY_POLICY)
    run_sync(project)
    config = f"--config={project.base_dir / 'safemirror.yaml'}"
    args = [config] if command == "verify" else [f"--source={pg_url}"]
    stopped = _stopped_while_a_read_waits(pg_url, [*command.split(), *args], stop)
    assert stopped == (code, recorded)


@pytest.mark.postgres
def test_postgres_incremental_runs_leave_what_a_full_rebuild_writes(
    pg_url: str, make_project: MakeProject
) -> None:
    """Tables written at once, each in its own transaction, end like a rebuild: the same
    rows (entry times aside) and the same running text counts."""
    generate(pg_url, scale=0.001, seed=4)
    policy = demo_policy()
    incremental = make_project(pg_url, policy, mirror="incremental/mirror.duckdb")
    run_sync(incremental)
    for seed in (6, 7):
        mutate(pg_url, fraction=0.05, seed=seed, at=datetime.now(UTC))
        assert run_sync(incremental).manifest.mode == "incremental"
    rebuilt = make_project(pg_url, policy, mirror="rebuilt/mirror.duckdb")
    run_sync(rebuilt, full=True)
    # a min_count category may become common between full runs (README): not compared
    skipped = {
        (table, column)
        for table, table_policy in incremental.policy.mirrored_tables.items()
        for column, spec in table_policy.columns.items()
        if spec.min_count
    }
    con = duckdb.connect(str(incremental.mirror), read_only=True)
    try:
        con.execute(f"ATTACH '{rebuilt.mirror}' AS rebuilt (READ_ONLY)")
        for table in incremental.policy.mirrored_tables:
            columns = ", ".join(["_sm_entered_at", *(c for t, c in skipped if t == table)])
            mine = f'SELECT * EXCLUDE ({columns}) FROM main."{table}"'
            theirs = f'SELECT * EXCLUDE ({columns}) FROM rebuilt.main."{table}"'
            for left, right in ((mine, theirs), (theirs, mine)):
                extra = con.execute(f"SELECT count(*) FROM ({left} EXCEPT ALL {right})")
                assert extra.fetchall() == [(0,)], table
        counts = {
            name: sorted(
                row
                for row in con.execute(f"SELECT * FROM {name}._sm_text_counts").fetchall()
                if (row[0], row[1]) not in skipped
            )
            for name in ("main", "rebuilt.main")
        }
        assert counts["main"] == counts["rebuilt.main"]
        assert counts["main"]  # the comparison compared something
    finally:
        con.close()

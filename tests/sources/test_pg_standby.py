"""A PostgreSQL standby as the source: it cannot see the transactions open on its primary,
and the run says so. A real primary and a streaming standby, started for the module."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator

import psycopg
import pytest

from safemirror.sources.postgres import PostgresSource
from tests.conftest import free_port, require
from tests.guard.guard_support import HOST, _spawn, _workdir, launch_postgres, pg_bindir

pytestmark = pytest.mark.postgres

PASSWORD = secrets.token_hex(16)  # a throw-away server's, made anew each run


def _connectable(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _replayed(src: PostgresSource, lsn: str, timeout: float = 30.0) -> None:
    """Wait until the standby behind ``src`` has replayed the primary's WAL up to ``lsn``."""
    deadline = time.monotonic() + timeout
    query = f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"
    while src._query(query).column(0)[0].as_py() is not True:
        assert time.monotonic() < deadline, "the standby did not catch up"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def replicated() -> Iterator[tuple[str, str]]:
    """(primary URL, standby URL), the standby streaming from the primary."""
    bindir = pg_bindir()
    require(bindir is not None, "PostgreSQL server binaries (initdb) are not installed")
    primary = launch_postgres(PASSWORD, tls=False).wait()
    owner = "postgres" if os.geteuid() == 0 else None
    work = _workdir("standby", owner)
    standby = None
    try:
        primary_url = f"postgresql://postgres:{PASSWORD}@{HOST}:{primary.port}/postgres"
        _connectable(primary_url)
        data = primary.workdir / "data"
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host replication all {HOST}/32 scram-sha-256\n")
        with psycopg.connect(primary_url, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        conninfo = f"host={HOST} port={primary.port} user=postgres password={PASSWORD}"
        backup = [f"{bindir}/pg_basebackup", "-d", conninfo, "-D", str(work / "data")]
        subprocess.run(
            [*backup, "-R", "-X", "stream", "--no-sync"],
            check=True,
            capture_output=True,
            timeout=120,
            user=owner,
            group=owner,
        )
        port = free_port()
        argv = [f"{bindir}/postgres", "-D", str(work / "data"), "-p", str(port)]
        argv += ["-k", str(work), "-c", f"listen_addresses={HOST}", "-c", "fsync=off"]
        standby = _spawn("postgres-standby", argv, work, port, user=owner).wait()
        standby_url = f"postgresql://postgres:{PASSWORD}@{HOST}:{port}/postgres"
        _connectable(standby_url)
        yield primary_url, standby_url
    finally:
        if standby is not None:
            standby.stop()
        else:
            shutil.rmtree(work, ignore_errors=True)
        primary.stop()


def test_a_standby_source_says_it_cannot_see_the_primarys_transactions(
    replicated: tuple[str, str],
) -> None:
    primary_url, standby_url = replicated
    with psycopg.connect(primary_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, at timestamptz)")
        conn.execute("INSERT INTO t VALUES (1, '2024-01-01 00:00+00')")
    with psycopg.connect(primary_url) as late:
        late.execute("INSERT INTO t VALUES (2, now())")  # open on the primary
        (started,) = late.execute("SELECT now()").fetchone()  # type: ignore[misc]
        with psycopg.connect(primary_url, autocommit=True) as other:
            other.execute("INSERT INTO t VALUES (3, now())")
            (lsn,) = other.execute("SELECT pg_current_wal_lsn()").fetchone()  # type: ignore[misc]
        with PostgresSource(standby_url) as src:
            _replayed(src, str(lsn))
            assert src.max_cursor("t", ["at"]) > started  # out of the standby's sight...
            (note,) = src.notes()  # ...and the run says so
            assert note.startswith("the source is a standby") and "could be missed" in note
        with PostgresSource(primary_url) as src:
            assert src.max_cursor("t", ["at"]) == started  # the primary holds it back
            assert src.notes() == []

"""Shared fixtures: real servers, and the rule that CI never skips a server test."""

from __future__ import annotations

import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import settings as hypothesis_settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# In CI the property-based tests (Hypothesis, schemathesis) draw the same examples every
# run, so a failure there is reproducible from the commit alone; on a developer's machine
# they keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    hypothesis_settings.load_profile("ci")
PG_ADMIN_URL = os.environ.get("SAFEMIRROR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` on a developer laptop; fail under ``CI=true``."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required test dependency missing in CI: {reason}")
    pytest.skip(reason)


def sqlite_db(path: Path, *statements: str) -> str:
    """A SQLite file at ``path`` made by ``statements`` (committed); its source URL."""
    db = sqlite3.connect(path)
    try:
        for sql in statements:
            db.execute(sql)
        db.commit()
    finally:
        db.close()
    return f"sqlite:///{path}"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port free now and not handed out before in this run: the kernel may give
    the same free port twice in a row, and two servers started one after the other would
    then race for it (the loser's clients reaching the winner)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    require(port_open("127.0.0.1", 5432), "PostgreSQL is not listening on 127.0.0.1:5432")
    return PG_ADMIN_URL


def _admin_exec(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"sm_test_{uuid.uuid4().hex[:12]}"
    _admin_exec(pg_admin_url, f'CREATE DATABASE "{name}"')
    base = pg_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _admin_exec(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_reader_url(pg_url: str) -> Iterator[str]:
    """``pg_url`` as a role of its own that may read the tables of the schema ``public``
    and nothing more: no superuser, no pg_read_all_stats; dropped afterwards."""
    import psycopg

    role, password = f"sm_reader_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
        conn.execute(
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO "{role}"'
        )
    parts = urlsplit(pg_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    try:
        yield urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}"))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


@pytest.fixture(scope="module")
def pg_module_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database shared by the tests of one module."""
    name = f"sm_test_{uuid.uuid4().hex[:12]}"
    _admin_exec(pg_admin_url, f'CREATE DATABASE "{name}"')
    base = pg_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _admin_exec(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

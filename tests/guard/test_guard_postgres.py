"""PostgreSQL clusters of our own (initdb in a temporary directory) in states a default
install is not in: the default password on a cluster without the probed database, and a
cluster with every connection slot taken."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from safemirror.guard.model import State
from tests.conftest import require
from tests.guard.guard_support import HOST, Server, launch_postgres, pg_bindir, probe

pytestmark = pytest.mark.services


@contextlib.contextmanager
def cluster(*settings: str) -> Iterator[Server]:
    """SCRAM for everyone, `postgres`'s password the well-known default."""
    require(pg_bindir() is not None, "PostgreSQL (initdb) is not installed")
    server = launch_postgres("postgres", tls=False, settings=settings).wait()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres() -> Iterator[Server]:
    """Enough connection slots that the probe's own connections, one after another, never
    wait for the server to free the slot of the previous one."""
    with cluster() as server:
        yield server


@pytest.fixture
def full_postgres() -> Iterator[Server]:
    """Three connection slots, none reserved: the test takes them all."""
    with cluster("max_connections=3", "superuser_reserved_connections=0") as server:
        yield server


def test_the_default_password_counts_when_the_database_does_not_exist(postgres: Server) -> None:
    """The server checks the password first and the database after: AuthenticationOk
    followed by `database … does not exist` means the password was right."""
    result = probe(
        {
            "name": "pg",
            "kind": "postgres",
            "address": f"{HOST}:{postgres.port}",
            "holds": ["pii"],
            "settings": {"database": "analytics"},
        }
    )
    assert result.state is State.EXPOSED, result.observation.notes
    assert result.findings[0].check == "default-credentials"
    assert any("3D000" in note for note in result.observation.notes)


def test_a_cluster_out_of_connection_slots_is_not_secure(full_postgres: Server) -> None:
    """A full cluster answers "too many clients" before authentication: that says nothing
    about passwords."""
    import psycopg

    dsn = f"host={HOST} port={full_postgres.port} user=postgres dbname=postgres"
    with contextlib.ExitStack() as held:
        for _ in range(3):
            held.enter_context(psycopg.connect(dsn, password="postgres"))
        address = f"{HOST}:{full_postgres.port}"
        result = probe({"name": "pg", "kind": "postgres", "address": address})
    assert result.state is State.UNREACHABLE
    assert result.observation.error == (
        "cannot tell whether a password is needed: 53300 sorry, too many clients already"
    )


def test_trust_for_a_role_that_does_not_exist_says_so() -> None:
    """Under trust the server lets the client past authentication before it looks the role
    up: the finding says that any role that exists gets in, not that this one did."""
    require(pg_bindir() is not None, "PostgreSQL (initdb) is not installed")
    server = launch_postgres("unused", tls=False, method="trust").wait()
    try:
        result = probe(
            {
                "name": "pg",
                "kind": "postgres",
                "address": f"{HOST}:{server.port}",
                "settings": {"user": "reporting"},
            }
        )
    finally:
        server.stop()
    assert result.state is State.EXPOSED
    assert [f.detail for f in result.findings if f.check == "no-auth"] == [
        "trusts user 'reporting' without a password (no such role: the roles that exist get "
        "in the same way) (? databases)"
    ]

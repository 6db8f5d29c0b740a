"""MariaDB set up in ways a default install is not: TLS required, accounts that need TLS,
expired or rate-limited empty passwords. One throw-away server; each test sets up its own
account through the server's Unix socket and drops it afterwards."""

from __future__ import annotations

import secrets
import shutil
import struct
import subprocess
from collections.abc import Iterator

import pytest

from safemirror.guard.model import State
from safemirror.guard.probes.mysql import packet
from safemirror.guard.scan import TargetResult
from tests.conftest import require
from tests.guard.guard_support import HOST, Server, checks, launch_mariadb, probe
from tests.guard.guard_tcp import TcpServer

pytestmark = pytest.mark.services

PASSWORD = secrets.token_hex(16)  # root's, made anew each run
USER = "guard_probe"


@pytest.fixture(scope="module")
def mariadb() -> Iterator[Server]:
    require(shutil.which("mariadbd") is not None, "mariadbd is not installed")
    require(shutil.which("mariadb") is not None, "the mariadb client is not installed")
    server = launch_mariadb(PASSWORD, tls=True).wait()
    try:
        yield server
    finally:
        server.stop()


def sql(server: Server, text: str) -> None:
    """Run ``text`` as root over the Unix socket."""
    client = ["mariadb", "--no-defaults", "-S", server.extra["socket"], "-uroot"]
    subprocess.run(
        [*client, f"-p{PASSWORD}", "-e", text],
        check=True,
        capture_output=True,
        timeout=30,
    )


@pytest.fixture
def account(mariadb: Server) -> Iterator[Server]:
    """``USER`` is dropped and ``require_secure_transport`` switched off after the test."""
    yield mariadb
    sql(mariadb, f"SET GLOBAL require_secure_transport=OFF; DROP USER IF EXISTS {USER}@'%'")


def scan_user(port: int, **entry: object) -> TargetResult:
    return probe(
        {
            "name": "db",
            "kind": "mysql",
            "address": f"{HOST}:{port}",
            "holds": ["pii"],
            "settings": {"users": [USER]},
            **entry,
        }
    )


def test_an_empty_password_let_in_over_tls_only_is_exposed(account: Server) -> None:
    """Under require_secure_transport MariaDB refuses a plaintext login as "access denied"
    (1045), exactly like a wrong password: the same login over TLS is let in."""
    sql(account, f"CREATE USER {USER}@'%'; SET GLOBAL require_secure_transport=ON")
    result = scan_user(account.port)
    assert result.state is State.EXPOSED, result.observation.notes
    assert f"lets user '{USER}' in with an empty password" in result.findings[0].detail
    assert f"user '{USER}' refused in plaintext, let in over TLS" in result.observation.notes


def test_an_account_that_requires_ssl_is_probed_over_tls(account: Server) -> None:
    sql(account, f"CREATE USER {USER}@'%' REQUIRE SSL")
    result = scan_user(account.port, expect={"tls": "required"})
    assert result.state is State.EXPOSED
    assert "no-auth" in checks(result)
    # one account needing TLS does not make the server refuse plaintext
    assert "tls" in checks(result) and result.observation.tls_required is False


def test_an_expired_empty_password_is_exposed(account: Server) -> None:
    """With disconnect_on_expired_password the server answers 1862 once the password is
    found right: any client that supports expired passwords gets in and sets one."""
    sql(account, f"CREATE USER {USER}@'%' PASSWORD EXPIRE")
    sql(account, "SET GLOBAL disconnect_on_expired_password=ON")
    try:
        result = scan_user(account.port)
    finally:
        sql(account, "SET GLOBAL disconnect_on_expired_password=OFF")
    assert result.state is State.EXPOSED
    assert "expired" in result.findings[0].detail
    assert result.observation.auth_required is False


def test_an_empty_password_at_its_connection_limit_is_exposed(account: Server) -> None:
    """The first probe uses up the hourly limit; the second is refused with 1226, which
    the server sends only after the password was found right."""
    sql(account, f"CREATE USER {USER}@'%' WITH MAX_CONNECTIONS_PER_HOUR 1")
    assert scan_user(account.port).state is State.EXPOSED
    result = scan_user(account.port)
    assert result.state is State.EXPOSED, result.observation.error
    assert "connection limit is reached" in result.findings[0].detail


def greeting(version: bytes = b"8.0.36") -> bytes:
    """A protocol-10 server greeting (no TLS) offering mysql_native_password."""
    caps = 0x1 | 0x200 | 0x8000 | 0x80000
    body = (
        b"\x0a"
        + version
        + b"\0"
        + struct.pack("<I", 7)
        + b"12345678\0"
        + struct.pack("<HBHH", caps & 0xFFFF, 33, 2, caps >> 16)
        + bytes([21])
        + bytes(10)
        + b"123456789012\0"
        + b"mysql_native_password\0"
    )
    return packet(0, body)


def test_too_many_connections_after_the_login_is_not_secure() -> None:
    """A server at max_connections may answer the login, not the greeting, with 1040: that
    says nothing about the empty password, so the target is not reported secure."""
    error = packet(2, b"\xff" + struct.pack("<H", 1040) + b"#08004Too many connections")
    server = TcpServer(greet=greeting(), reply=error, close_after=True)
    try:
        result = probe({"name": "db", "kind": "mysql", "address": f"{HOST}:{server.port}"})
    finally:
        server.stop()
    assert result.state is State.UNREACHABLE
    assert "cannot tell whether an empty password is refused" in (result.observation.error or "")
    assert "1040 Too many connections" in (result.observation.error or "")

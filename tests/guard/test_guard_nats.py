"""NATS on a port where TLS comes first (`handshake_first`, or a TLS terminator in front):
the server says nothing until the TLS handshake, so its INFO cannot announce TLS. A real
nats-server (the machine's, and our own with a password) behind a TLS-only port."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from safemirror.guard.model import State
from safemirror.guard.scan import TargetResult
from tests.conftest import port_open, require
from tests.guard.guard_proxy import TlsProxy
from tests.guard.guard_support import HOST, checks, launch_nats, probe

pytestmark = pytest.mark.services


def scan_nats(port: int) -> TargetResult:
    return probe(
        {
            "name": "bus",
            "kind": "nats",
            "address": f"{HOST}:{port}",
            "holds": ["internal"],
            "timeout": 1.0,
            "expect": {"tls": "required"},
        }
    )


def test_an_open_server_behind_a_tls_first_port_is_exposed(tmp_path: Path) -> None:
    require(port_open(HOST, 4222), f"NATS is not listening on {HOST}:4222")
    front = TlsProxy(4222, tmp_path)
    try:
        result = scan_nats(front.port)
    finally:
        front.stop()
    obs = result.observation
    assert obs.error is None, obs.error
    assert result.state is State.EXPOSED and "no-auth" in checks(result)
    assert obs.tls_required is True and "tls" not in checks(result)
    assert obs.version


def test_a_server_with_a_password_behind_a_tls_first_port_is_secure(tmp_path: Path) -> None:
    require(shutil.which("nats-server") is not None, "nats-server is not installed")
    server = launch_nats("guard", secrets.token_hex(16)).wait()
    front = TlsProxy(server.port, tmp_path)
    try:
        result = scan_nats(front.port)
    finally:
        front.stop()
        server.stop()
    assert result.observation.error is None, result.observation.error
    assert result.state is State.SECURE, result.findings
    assert result.observation.auth_required is True
    assert result.observation.tls_required is True


@pytest.mark.parametrize(
    ("user", "state"), [(None, State.EXPOSED), ("guard", State.UNREACHABLE)], ids=["open", "auth"]
)
def test_a_server_out_of_connections_is_not_secure(user: str | None, state: State) -> None:
    """At max_connections nats-server answers CONNECT with `-ERR 'maximum connections
    exceeded'`, whoever asks: that is no refusal of credentials. INFO's auth_required
    false stands (exposed); with auth_required true the probe cannot tell."""
    require(shutil.which("nats-server") is not None, "nats-server is not installed")
    password = secrets.token_hex(16) if user else None
    server = launch_nats(user, password, config="max_connections: 1\n").wait()
    try:
        with take_the_only_slot(server.port, user, password):
            result = probe({"name": "bus", "kind": "nats", "address": f"{HOST}:{server.port}"})
    finally:
        server.stop()
    assert result.state is state
    if state is State.EXPOSED:
        assert result.findings[0].detail == "INFO says auth_required is false"
        assert any("maximum connections exceeded" in n for n in result.observation.notes)
    else:
        assert "cannot tell whether credentials are required" in (result.observation.error or "")


@contextlib.contextmanager
def take_the_only_slot(port: int, user: str | None, password: str | None) -> Iterator[None]:
    """A client connection holding the server's one slot (once the readiness check's own
    connection is let go: until then, this one is refused)."""
    auth = {"user": user, "pass": password} if user else {}
    connect = b"CONNECT " + json.dumps({"verbose": False, **auth}).encode() + b"\r\nPING\r\n"
    deadline = time.monotonic() + 10
    while True:
        conn = socket.create_connection((HOST, port), timeout=5)
        reader = conn.makefile("rb")
        reader.readline()  # INFO
        conn.sendall(connect)
        if reader.readline() == b"PONG\r\n":
            break
        reader.close()
        conn.close()
        assert time.monotonic() < deadline, "the slot was never free"
    try:
        yield
    finally:
        reader.close()
        conn.close()


def test_a_server_that_requires_client_certificates_is_secure() -> None:
    """`--tlsverify` without users: the client certificate is the credential, and the
    server refuses the probe's TLS session without one (an alert, not a protocol error)."""
    require(shutil.which("nats-server") is not None, "nats-server is not installed")
    server = launch_nats(None, None, tls=True, verify=True).wait()
    try:
        result = probe({"name": "bus", "kind": "nats", "address": f"{HOST}:{server.port}"})
    finally:
        server.stop()
    assert result.state is State.SECURE, result.observation.error
    assert result.observation.auth_required is True
    assert "requires a client certificate" in result.observation.notes

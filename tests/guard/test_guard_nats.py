"""NATS on a port where TLS comes first (`handshake_first`, or a TLS terminator in front):
the server says nothing until the TLS handshake, so its INFO cannot announce TLS. A real
nats-server (the machine's, and our own with a password) behind a TLS-only port."""

from __future__ import annotations

import secrets
import shutil
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

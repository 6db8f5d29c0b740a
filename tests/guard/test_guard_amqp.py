"""RabbitMQ set up as a hardened install is: no guest user, and a TLS-only listener. Our own
throw-away node (started once for the module); the management API is a stand-in that fails
on cue, or the node's own."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from safemirror.guard.model import State
from safemirror.guard.scan import TargetResult
from tests.conftest import free_port, port_open, require
from tests.guard.guard_proxy import Management, TlsProxy
from tests.guard.guard_support import HOST, Server, checks, launch_rabbitmq, probe

pytestmark = pytest.mark.services

PASSWORD = secrets.token_hex(16)  # the throw-away node's admin password
TIMEOUT = 1.0


@pytest.fixture(scope="module")
def rabbit() -> Iterator[Server]:
    require(shutil.which("rabbitmq-server") is not None, "rabbitmq-server is not installed")
    server = launch_rabbitmq(PASSWORD, tls=True)
    try:
        server.wait(90)
        server.wait(60, port=server.extra["tls_port"])
        yield server
    finally:
        server.stop()


def scan_amqp(port: int, **settings: Any) -> TargetResult:
    return probe(
        {
            "name": "events",
            "kind": "amqp",
            "address": f"{HOST}:{port}",
            "holds": ["pii"],
            "timeout": TIMEOUT,
            "settings": settings,
        }
    )


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("silent", "answer within 1 s"),
        ("hang", "answer within 1 s"),
        ("reset", "connection lost"),
        ("trickle", "answer within 1 s"),
    ],
)
def test_guest_refused_stands_when_the_management_api_fails(
    rabbit: Server, mode: str, reason: str
) -> None:
    """What the AMQP port established (guest refused) is the verdict; a management API that
    times out or breaks off is a note, not `unreachable`."""
    management = Management(mode)
    try:
        result = scan_amqp(rabbit.port, management_url=management.url)
    finally:
        management.stop()
    obs = result.observation
    assert obs.error is None, obs.error
    assert result.state is State.SECURE, result.findings
    assert obs.auth_required is True and obs.product == "RabbitMQ"
    notes = obs.incomplete
    assert len(notes) == 1, obs.notes
    assert notes[0].startswith("probe stopped early: management API did not answer")
    assert reason in notes[0]


def test_guest_refused_with_the_real_management_api_is_secure(rabbit: Server) -> None:
    url = f"http://{HOST}:{rabbit.extra['management_port']}"
    result = scan_amqp(rabbit.port, management_url=url)
    assert result.state is State.SECURE, result.findings
    assert result.observation.incomplete == []
    assert result.observation.metadata["management"] == url


def test_a_tls_only_port_is_probed_over_tls(rabbit: Server) -> None:
    """Without `tls: true` in the target: RabbitMQ answers the plaintext protocol header
    with a TLS alert; the probe asks again over TLS and finds guest refused."""
    result = scan_amqp(rabbit.extra["tls_port"], check_management=False)
    obs = result.observation
    assert obs.error is None, obs.error
    assert result.state is State.SECURE, result.findings
    assert obs.product == "RabbitMQ" and obs.auth_required is True
    assert obs.tls_required is True and obs.tls_offered is True


def test_guest_let_in_behind_a_tls_only_port_is_exposed(tmp_path: Path) -> None:
    """The machine's RabbitMQ (guest/guest from loopback) behind a TLS terminator."""
    require(port_open(HOST, 5672), f"RabbitMQ is not listening on {HOST}:5672")
    front = TlsProxy(5672, tmp_path)
    try:
        result = probe(
            {
                "name": "events",
                "kind": "amqp",
                "address": f"{HOST}:{front.port}",
                "holds": ["pii"],
                "expect": {"tls": "required"},
                "settings": {"check_management": False},
            }
        )
    finally:
        front.stop()
    assert result.state is State.EXPOSED, result.observation.error
    assert "default-credentials" in checks(result) and "tls" not in checks(result)
    assert result.observation.tls_required is True


def test_guest_behind_a_port_that_requires_client_certificates_is_secure(
    tmp_path: Path,
) -> None:
    """The machine's RabbitMQ (guest/guest from loopback) behind a TLS terminator that
    requires a client certificate: without one nobody gets to the login."""
    require(port_open(HOST, 5672), f"RabbitMQ is not listening on {HOST}:5672")
    front = TlsProxy(5672, tmp_path, client_certs=True)
    try:
        result = scan_amqp(front.port, check_management=False)
    finally:
        front.stop()
    obs = result.observation
    assert result.state is State.SECURE, obs.error
    assert obs.auth_required is True and obs.tls_required is True
    assert "requires a client certificate" in obs.notes


def test_without_default_credentials_the_port_is_still_asked(rabbit: Server) -> None:
    """`try_default_credentials: false` skips the login, not the handshake: a broker that
    is down is unreachable, not secure."""
    down = scan_amqp(free_port(), try_default_credentials=False, check_management=False)
    assert down.state is State.UNREACHABLE
    assert down.observation.error == "connection refused"
    up = scan_amqp(rabbit.port, try_default_credentials=False, check_management=False)
    assert up.state is State.SECURE, up.findings
    assert up.observation.reachable and up.observation.product == "RabbitMQ"
    assert "PLAIN" in up.observation.metadata["mechanisms"]


def test_guest_is_tried_with_amqplain_when_plain_is_not_offered() -> None:
    """A node offering AMQPLAIN only (`auth_mechanisms.1 = AMQPLAIN`) still lets guest in
    with its default password: the probe logs in with the mechanism offered."""
    require(shutil.which("rabbitmq-server") is not None, "rabbitmq-server is not installed")
    server = launch_rabbitmq("guest", user="guest", conf_extra="auth_mechanisms.1 = AMQPLAIN\n")
    try:
        server.wait(90)
        result = scan_amqp(server.port, check_management=False)
    finally:
        server.stop()
    assert result.observation.metadata["mechanisms"] == ["AMQPLAIN"]
    assert result.state is State.EXPOSED, result.observation.notes
    assert result.findings[0].check == "default-credentials"
    assert "AMQP accepts user 'guest'" in result.findings[0].detail


@pytest.mark.parametrize(
    "overview",
    [{"object_totals": [1, 2]}, {"rabbitmq_version": {"x": 1}, "object_totals": {"queues": "7"}}],
)
def test_an_odd_management_overview_is_reported_not_crashed(
    rabbit: Server, overview: dict[str, Any]
) -> None:
    """A management API (or what answers at its URL) that returns 200 with fields of the
    wrong types: open all the same, its figures left out."""
    from http.server import BaseHTTPRequestHandler

    from tests.guard.guard_fakes import HttpThread

    body = json.dumps(overview).encode()

    class Overview(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    management = HttpThread(Overview)
    try:
        result = scan_amqp(rabbit.port, management_url=management.url)
    finally:
        management.stop()
    assert result.state is State.EXPOSED
    assert result.findings[0].detail == "management API answers /api/overview without credentials"
    assert "queues" not in result.observation.metadata
    assert isinstance(result.observation.version, str)  # from Connection.Start

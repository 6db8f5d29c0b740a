"""Fail closed: an exposure a probe established stays reported when a later step fails (a
reset, a stall, the budget running out); the failure is a note. A target where nothing
was established is still ``unreachable``.

The machine's own stores (MariaDB, RabbitMQ, PostgreSQL, Redis, Mosquitto) sit behind a
proxy that resets or stalls on cue; the RabbitMQ management API is a stand-in that answers
the anonymous request with 401 and then resets, hangs or trickles."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from safemirror.guard.model import State
from safemirror.guard.scan import TargetResult
from tests.conftest import port_open, require
from tests.guard.guard_fakes import HttpThread, TcpServer
from tests.guard.guard_proxy import PASS, Plan, TcpProxy, reset
from tests.guard.guard_support import HOST, probe

pytestmark = pytest.mark.services

TIMEOUT = 1.0


def needs(port: int, name: str) -> None:
    require(port_open(HOST, port), f"{name} is not listening on {HOST}:{port}")


@pytest.fixture
def proxies() -> Iterator[list[TcpProxy]]:
    started: list[TcpProxy] = []
    yield started
    for proxy in started:
        proxy.stop()


def proxy(proxies: list[TcpProxy], upstream: int, *plans: Plan) -> TcpProxy:
    started = TcpProxy(upstream, plans)
    proxies.append(started)
    return started


def scan_one(kind: str, port: int, **entry: Any) -> TargetResult:
    return probe(
        {
            "name": f"{kind}-behind-proxy",
            "kind": kind,
            "address": f"{HOST}:{port}",
            "holds": ["pii"],
            "timeout": TIMEOUT,
            **entry,
        }
    )


def stopped_early(result: TargetResult, check: str, detail: str, reason: str) -> None:
    """Reported with its exposure, the failure as a note, no `unreachable` finding."""
    assert result.observation.error is None, result.observation.error
    assert [f.check for f in result.findings if f.check == check], result.findings
    assert any(detail in f.detail for f in result.findings if f.check == check), result.findings
    assert "unreachable" not in {f.check for f in result.findings}
    notes = [n for n in result.observation.notes if n.startswith("probe stopped early: ")]
    assert len(notes) == 1 and reason in notes[0], result.observation.notes


# --- MariaDB ------------------------------------------------------------------------------


def test_mysql_root_let_in_then_next_connection_reset(proxies: list[TcpProxy]) -> None:
    needs(3306, "MariaDB")
    front = proxy(proxies, 3306, PASS, Plan(reset=True))
    result = scan_one("mysql", front.port)  # root (let in), then the anonymous user (reset)
    assert result.state is State.EXPOSED
    stopped_early(
        result, "no-auth", "lets user 'root' in with an empty password", "connection lost"
    )
    assert result.observation.metadata["databases"] >= 1
    assert front.accepted == 2


def test_mysql_budget_running_out_after_root_keeps_the_exposure(
    proxies: list[TcpProxy],
) -> None:
    """Every answer 0.7 s late: each step is within the 1 s timeout, the whole probe is not
    within its 3 s budget."""
    needs(3306, "MariaDB")
    front = proxy(proxies, 3306, Plan(delay=0.7))
    result = scan_one("mysql", front.port)
    assert result.state is State.EXPOSED
    stopped_early(
        result, "no-auth", "lets user 'root' in", f"no complete answer within {3 * TIMEOUT:g} s"
    )


def test_mysql_stalling_after_the_login_still_reports_root(proxies: list[TcpProxy]) -> None:
    """The login goes through; SHOW DATABASES is never answered."""
    needs(3306, "MariaDB")
    front = proxy(proxies, 3306, Plan(requests=1))
    result = scan_one("mysql", front.port, settings={"users": ["root"]})
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "lets user 'root' in", "no answer within")
    assert result.findings[0].detail.endswith("(? databases)")


def test_nothing_established_is_still_unreachable(proxies: list[TcpProxy]) -> None:
    needs(3306, "MariaDB")
    front = proxy(proxies, 3306, PASS, Plan(reset=True))
    result = scan_one("mysql", front.port, settings={"users": ["no-such-guard-user", "root"]})
    assert result.state is State.UNREACHABLE
    assert [f.check for f in result.findings] == ["unreachable"]
    assert "connection lost" in (result.observation.error or "")


# --- RabbitMQ -----------------------------------------------------------------------------


class Management(HttpThread):
    """A management API stand-in: 401 without credentials; with them it resets the
    connection, hangs, or trickles its answer one byte every 0.3 s."""

    def __init__(self, mode: str) -> None:
        release = self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if "Authorization" not in self.headers:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="RabbitMQ Management"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif mode == "reset":
                    reset(self.connection)
                    self.close_connection = True
                elif mode == "hang":
                    release.wait(30)
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    for _ in range(100):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        if release.wait(0.3):
                            return

        super().__init__(Handler)

    def stop(self) -> None:
        self.release.set()
        super().stop()


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("reset", "connection lost"),
        ("hang", "no answer within"),
        ("trickle", f"no complete answer within {3 * TIMEOUT:g} s"),
    ],
)
def test_amqp_guest_login_survives_a_failing_management_api(mode: str, reason: str) -> None:
    needs(5672, "RabbitMQ")
    management = Management(mode)
    try:
        result = scan_one("amqp", 5672, settings={"management_url": management.url})
    finally:
        management.stop()
    assert result.state is State.EXPOSED
    stopped_early(result, "default-credentials", "AMQP accepts user 'guest'", reason)


def test_amqp_stalling_after_the_login_still_reports_guest(proxies: list[TcpProxy]) -> None:
    """The broker accepts guest/guest (Connection.Tune); the vhost Open never gets there."""
    needs(5672, "RabbitMQ")
    front = proxy(proxies, 5672, Plan(requests=2))  # protocol header, StartOk
    result = scan_one("amqp", front.port, settings={"check_management": False})
    assert result.state is State.EXPOSED
    stopped_early(
        result,
        "default-credentials",
        "AMQP accepts user 'guest' with its default password",
        "no answer within",
    )


# --- PostgreSQL, Redis, Mosquitto ----------------------------------------------------------


def test_postgres_trust_then_a_stalled_database_list(proxies: list[TcpProxy]) -> None:
    needs(5432, "PostgreSQL")
    front = proxy(proxies, 5432, PASS, Plan(requests=1))  # SSLRequest; startup only
    result = scan_one("postgres", front.port)
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "lets user 'postgres' in without a password", "no answer")


def test_redis_open_then_a_stalled_keyspace_question(proxies: list[TcpProxy]) -> None:
    needs(6379, "Redis")
    front = proxy(proxies, 6379, Plan(requests=1))  # INFO server only
    result = scan_one("redis", front.port)
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "answers INFO without AUTH", "no answer within")
    assert result.findings[0].detail.endswith("? keys)")


def test_redis_answering_ping_then_a_malformed_dbsize() -> None:
    """A canned server (INFO disabled, PING answered, then a reply that is not RESP)."""
    server = TcpServer(reply=b"-ERR unknown command 'INFO'\r\n+PONG\r\n$x\r\n")
    try:
        result = scan_one("redis", server.port)
    finally:
        server.stop()
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "answers PING without AUTH", "unexpected answer")


def test_mqtt_anonymous_connect_then_a_stalled_subscribe(proxies: list[TcpProxy]) -> None:
    needs(1883, "Mosquitto")
    front = proxy(proxies, 1883, Plan(requests=1))  # CONNECT only
    start = time.monotonic()
    result = scan_one("mqtt", front.port)
    assert result.state is State.DRIFT
    stopped_early(result, "anonymous-limited", "accepts anonymous connections", "no answer")
    assert time.monotonic() - start < 3 * TIMEOUT + 1


# --- HTTP ---------------------------------------------------------------------------------


def test_http_open_path_survives_a_later_path_reset() -> None:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/open":
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            else:
                reset(self.connection)
                self.close_connection = True

    server = HttpThread(Handler)
    try:
        result = probe(
            {
                "name": "admin-ui",
                "kind": "http",
                "address": server.url,
                "timeout": TIMEOUT,
                "settings": {"paths": ["/open", "/broken"]},
            }
        )
    finally:
        server.stop()
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "answers without credentials on /open", "connection lost")

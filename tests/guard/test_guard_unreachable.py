"""Hosts that refuse, never answer, or speak another protocol give "unreachable" quickly —
never a hang, never a crash — for every kind."""

from __future__ import annotations

import ssl
import struct

import pytest

from safemirror.guard.model import State
from safemirror.guard.probes import registry
from safemirror.guard.probes.wire import insecure_tls
from safemirror.guard.scan import BUDGET_FACTOR
from tests.conftest import free_port
from tests.guard.guard_support import probe
from tests.guard.guard_tcp import TcpServer

KINDS = registry.kinds()
TIMEOUT = 0.5


def entry(kind: str, port: int) -> dict[str, object]:
    url = registry.get(kind).url_address
    address = f"http://127.0.0.1:{port}" if url else f"127.0.0.1:{port}"
    return {"name": "x", "kind": kind, "address": address, "timeout": TIMEOUT}


@pytest.mark.parametrize("kind", KINDS)
def test_closed_port_is_unreachable(kind: str) -> None:
    result = probe(entry(kind, free_port()))
    assert result.state is State.UNREACHABLE
    assert result.findings[0].detail == "connection refused"
    assert result.duration < 1


@pytest.fixture(scope="module")
def silent() -> TcpServer:
    server = TcpServer()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.mark.parametrize("kind", KINDS)
def test_silent_host_is_unreachable_within_its_budget(kind: str, silent: TcpServer) -> None:
    result = probe(entry(kind, silent.port))
    assert result.state is State.UNREACHABLE
    assert (
        "no answer within" in result.findings[0].detail
        or "no complete answer" in result.findings[0].detail
    )
    assert result.duration < TIMEOUT * BUDGET_FACTOR + 0.5  # the budget, not a hang


def _nested_amqp_start(depth: int = 20_000) -> bytes:
    """A Connection.Start whose server properties nest ``depth`` field tables."""
    table = b""
    for _ in range(depth):
        table = b"\x00F" + struct.pack("!I", len(table)) + table
    args = b"\x00\x09" + struct.pack("!I", len(table)) + table
    args += struct.pack("!I", 5) + b"PLAIN" + struct.pack("!I", 5) + b"en_US"
    payload = struct.pack("!HH", 10, 10) + args
    return struct.pack("!BHI", 1, 0, len(payload)) + payload + b"\xce"


def test_replies_nested_without_end_are_reported_not_crashed() -> None:
    """A hostile server nests JSON (NATS INFO, Elasticsearch) or AMQP field tables deeper
    than Python recurses: the target is unreachable, the sweep goes on."""
    from http.server import BaseHTTPRequestHandler

    from tests.guard.guard_fakes import HttpThread

    class Deep(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = b"[" * 200_000
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    nats = TcpServer(greet=b"INFO " + b"[" * 60_000 + b"\r\n")
    amqp = TcpServer(reply=_nested_amqp_start())
    search = HttpThread(Deep)
    try:
        results = [
            probe(entry("nats", nats.port)),
            probe({**entry("amqp", amqp.port), "settings": {"check_management": False}}),
            probe(entry("elasticsearch", search.port)),
        ]
    finally:
        nats.stop()
        amqp.stop()
        search.stop()
    for result in results:
        assert result.state is State.UNREACHABLE
        assert result.observation.error == "unexpected answer (RecursionError)"


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_protocol_is_reported_not_crashed(kind: str) -> None:
    server = TcpServer(greet=b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", close_after=True)
    try:
        result = probe(entry(kind, server.port))
    finally:
        server.stop()
    assert result.state is State.UNREACHABLE
    assert result.observation.error


def test_redis_protected_mode_is_not_an_exposure() -> None:
    """Protected mode only answers non-loopback clients, so a canned reply stands in."""
    server = TcpServer(
        reply=b"-DENIED Redis is running in protected mode because protected "
        b"mode is enabled and no password is set for the default user.\r\n"
    )
    try:
        result = probe({"name": "r", "kind": "redis", "address": f"127.0.0.1:{server.port}"})
    finally:
        server.stop()
    assert result.state is State.SECURE
    assert result.observation.notes == ["protected mode refuses non-loopback clients"]


@pytest.mark.parametrize(
    ("replies", "state"),
    [
        (b"-ERR unknown command 'INFO'\r\n+PONG\r\n", State.EXPOSED),  # then it hangs up
        (b"-ERR unknown command 'INFO'\r\n-NOAUTH Authentication required.\r\n", State.SECURE),
        (b"-ERR unknown command 'INFO'\r\n-ERR unknown command 'PING'\r\n", State.UNREACHABLE),
    ],
)
def test_redis_with_info_refused_is_asked_to_ping(replies: bytes, state: State) -> None:
    """A canned server (replies sent at once, then the connection closed): PONG means open
    even when the key count cannot be read; PING refused for want of AUTH leaves INFO's
    refusal standing; refused for another reason, and then the hang-up, tells nothing."""
    server = TcpServer(reply=replies, close_after=True)
    try:
        result = probe(
            {"name": "r", "kind": "redis", "address": f"127.0.0.1:{server.port}", "holds": ["pii"]}
        )
    finally:
        server.stop()
    assert result.state is state
    if state is State.EXPOSED:
        assert result.observation.metadata["keys"] == "?"
        assert "INFO refused: ERR" in result.findings[0].detail
    elif state is State.SECURE:
        assert result.observation.notes == ["INFO refused: ERR"]
    else:
        assert "cannot tell whether AUTH is required" in (result.observation.error or "")


def test_a_slow_target_does_not_delay_the_others() -> None:
    from pathlib import Path

    from safemirror.guard import targets as targets_mod
    from safemirror.guard.scan import scan

    server = TcpServer()
    try:
        tfile = targets_mod.validate(
            {
                "targets": [
                    {
                        "name": f"t{i}",
                        "kind": "redis",
                        "address": f"127.0.0.1:{server.port}",
                        "timeout": TIMEOUT,
                    }
                    for i in range(20)
                ]
            },
            Path("x.yaml"),
        )
        result = scan(tfile.targets)
    finally:
        server.stop()
    assert all(r.state is State.UNREACHABLE for r in result.results)
    # concurrent: the sweep takes about as long as one probe, not as long as all 20 together
    # (a ratio, so a slow or busy machine, which stretches both, does not change the verdict)
    assert result.duration < sum(r.duration for r in result.results) / 4


def test_tls_checks_load_no_ca_certificates() -> None:
    """The guard verifies no certificate, so it loads none: reading the system's CA bundle
    blocks the event loop (a third of a second a time on a busy machine), and a sweep that
    did so for each TLS check stretched every other probe past its budget."""
    context = insecure_tls()
    assert context.verify_mode is ssl.CERT_NONE and not context.check_hostname
    assert context.cert_store_stats() == {"crl": 0, "x509": 0, "x509_ca": 0}

"""A name that resolves to several addresses: one that drops packets does not make the
target unreachable, and every address is assessed (an exposed replica behind a
round-robin name is reported, with its address)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from safemirror.guard.model import State
from safemirror.guard.probes.wire import Wire
from tests.guard.guard_fakes import HttpThread
from tests.guard.guard_support import probe
from tests.guard.guard_tcp import Blackhole, TcpServer

NAME = "replicas.guard.test"
OPEN_INFO = b'INFO {"server_id":"x","version":"2.10.7","auth_required":false}\r\n'
AUTH_INFO = b'INFO {"server_id":"y","version":"2.10.7","auth_required":true}\r\n'
_real_getaddrinfo = asyncio.base_events.BaseEventLoop.getaddrinfo


@pytest.fixture
def resolves_to(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """``NAME`` resolves, for asyncio, to the addresses the test puts in the list (in that
    order); ``/etc/hosts`` is not touched."""
    addresses: list[str] = []

    async def getaddrinfo(self: Any, host: Any, port: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return await _real_getaddrinfo(self, host, port, **kwargs)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        number = int(port or 0)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, number)) for a in addresses]

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", getaddrinfo)
    yield addresses


def nats(port: int, timeout: float = 1.0) -> dict[str, Any]:
    return {"name": "bus", "kind": "nats", "address": f"{NAME}:{port}", "timeout": timeout}


def test_wire_open_tries_the_next_address_while_one_drops_packets(
    resolves_to: list[str],
) -> None:
    server = TcpServer(greet=OPEN_INFO)
    hole = Blackhole("127.0.0.2", server.port)
    resolves_to += ["127.0.0.2", "127.0.0.1"]

    async def connect() -> str | None:
        async with await Wire.open(NAME, server.port, 6.0) as wire:
            return wire.peer

    try:
        start = time.monotonic()
        assert asyncio.run(connect()) == "127.0.0.1"
        # not the whole timeout on the silent one: the next address after 0.25 s
        assert time.monotonic() - start < 3.0
    finally:
        hole.stop()
        server.stop()


def test_a_silent_address_does_not_hide_the_one_that_answers(resolves_to: list[str]) -> None:
    server = TcpServer(greet=OPEN_INFO, reply=b"PONG\r\n")
    hole = Blackhole("127.0.0.2", server.port)
    resolves_to += ["127.0.0.2", "127.0.0.1"]
    try:
        result = probe(nats(server.port))
    finally:
        hole.stop()
        server.stop()
    assert result.state is State.EXPOSED
    assert result.findings[0].detail == "accepts CONNECT without credentials (PING answered)"
    assert result.observation.addresses == {
        "127.0.0.2": "unreachable: no TCP answer within 1 s",
        "127.0.0.1": "exposed",
    }
    assert "127.0.0.2 did not answer: no TCP answer within 1 s" in result.observation.notes
    assert result.duration < 2.0  # the addresses are probed together


def test_every_address_is_assessed_and_named_when_they_differ(resolves_to: list[str]) -> None:
    guarded = TcpServer(greet=AUTH_INFO, reply=b"-ERR 'Authorization Violation'\r\n")
    exposed = TcpServer(greet=OPEN_INFO, reply=b"PONG\r\n", host="127.0.0.2", port=guarded.port)
    resolves_to += ["127.0.0.1", "127.0.0.2"]  # the guarded replica first
    try:
        result = probe(nats(guarded.port))
    finally:
        guarded.stop()
        exposed.stop()
    assert result.state is State.EXPOSED
    details = [f.detail for f in result.findings]
    assert "on 127.0.0.2: accepts CONNECT without credentials (PING answered)" in details
    assert "NATS 2.10.7" in details  # the same on both: reported once, as is
    assert result.observation.addresses == {"127.0.0.1": "secure", "127.0.0.2": "exposed"}


def test_http_probes_connect_to_each_address_and_keep_the_name(resolves_to: list[str]) -> None:
    hosts: list[str] = []

    def handler(status: int) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hosts.append(self.headers.get("Host", ""))
                body = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    guarded = HttpThread(handler(401))
    exposed = HttpThread(handler(200), host="127.0.0.2", port=guarded.port)
    resolves_to += ["127.0.0.1", "127.0.0.2"]
    try:
        result = probe({"name": "ui", "kind": "http", "address": f"http://{NAME}:{guarded.port}"})
    finally:
        guarded.stop()
        exposed.stop()
    assert result.state is State.EXPOSED
    assert [f.detail for f in result.findings if f.check == "no-auth"] == [
        "on 127.0.0.2: answers without credentials on /"
    ]
    assert set(hosts) == {f"{NAME}:{guarded.port}"}  # virtual hosts see their own name
    assert result.observation.addresses == {"127.0.0.1": "secure", "127.0.0.2": "exposed"}


def test_no_address_answering_is_unreachable_with_each_reason(resolves_to: list[str]) -> None:
    hole = Blackhole("127.0.0.2")
    refusing = socket.socket()
    refusing.bind(("127.0.0.1", hole.port))  # bound, not listening: refuses
    resolves_to += ["127.0.0.1", "127.0.0.2"]
    try:
        result = probe(nats(hole.port, timeout=0.5))
    finally:
        hole.stop()
        refusing.close()
    assert result.state is State.UNREACHABLE
    assert result.findings[0].detail == (
        "no address answered (127.0.0.1: connection refused; 127.0.0.2: no TCP answer within 0.5 s)"
    )


def test_a_name_that_does_not_resolve_is_unreachable(resolves_to: list[str]) -> None:
    result = probe(nats(4222))
    assert result.state is State.UNREACHABLE
    assert result.findings[0].detail == f"cannot resolve {NAME}: Name or service not known"

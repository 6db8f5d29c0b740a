"""MQTT set up in ways the shared broker is not (our own throw-away Mosquitto): a topic other
than the default, whose messages the probe must never read; a TLS-only listener; an ACL
file. And a scripted broker that is not Mosquitto."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from safemirror.guard.model import Severity, State
from safemirror.guard.scan import TargetResult
from tests.conftest import require
from tests.guard.guard_support import HOST, Server, checks, launch_mosquitto, probe
from tests.guard.guard_tcp import Listener, TcpServer

pytestmark = pytest.mark.services

PAYLOAD = "door-code 4711 unlocked"


def test_a_retained_message_on_the_chosen_topic_is_not_read_as_a_version() -> None:
    require(shutil.which("mosquitto") is not None, "mosquitto is not installed")
    require(shutil.which("mosquitto_pub") is not None, "mosquitto_pub is not installed")
    broker = launch_mosquitto(anonymous=True).wait()
    try:
        publish = ["mosquitto_pub", "-h", HOST, "-p", str(broker.port), "-t", "plant/door"]
        subprocess.run(
            [*publish, "-r", "-m", PAYLOAD],
            check=True,
            capture_output=True,
            timeout=10,
        )
        result = probe(
            {
                "name": "m",
                "kind": "mqtt",
                "address": f"{HOST}:{broker.port}",
                "settings": {"topic": "plant/door"},
            }
        )
    finally:
        broker.stop()
    assert result.state is State.EXPOSED
    assert result.observation.version is None
    text = repr(result.observation.to_dict()) + repr([f.to_dict() for f in result.findings])
    assert "4711" not in text and "unlocked" not in text


@pytest.mark.parametrize("tls_setting", [False, True])
def test_a_listener_that_requires_client_certificates_is_secure(tls_setting: bool) -> None:
    """`require_certificate true`, anonymous clients allowed: the certificate is the
    credential, and a client without one is refused in the TLS session, not by CONNACK."""
    require(shutil.which("mosquitto") is not None, "mosquitto is not installed")
    broker = launch_mosquitto(anonymous=True, tls=True, client_certs=True).wait()
    try:
        result = probe(
            {
                "name": "m",
                "kind": "mqtt",
                "address": f"{HOST}:{broker.port}",
                "holds": ["pii"],
                "settings": {"tls": tls_setting},
            }
        )
    finally:
        broker.stop()
    obs = result.observation
    assert result.state is State.SECURE, obs.error
    assert obs.auth_required is True and obs.tls_required is True
    assert "requires a client certificate" in obs.notes


@pytest.mark.parametrize("anonymous", [True, False])
def test_a_tls_only_listener_is_probed_over_tls(anonymous: bool) -> None:
    """Without `tls: true` in the target: Mosquitto resets a plaintext CONNECT on a TLS
    listener, and the probe must ask again over TLS, not call the broker unreachable."""
    require(shutil.which("mosquitto") is not None, "mosquitto is not installed")
    broker = launch_mosquitto(anonymous=anonymous, tls=True).wait()
    try:
        result = probe(
            {
                "name": "m",
                "kind": "mqtt",
                "address": f"{HOST}:{broker.port}",
                "holds": ["pii"],
                "expect": {"tls": "required"},
            }
        )
    finally:
        broker.stop()
    obs = result.observation
    assert obs.error is None, obs.error
    assert obs.tls_required is True and obs.tls_offered is True
    assert "tls" not in checks(result)
    if anonymous:
        assert result.state is State.EXPOSED and "no-auth" in checks(result)
        assert obs.product == "mosquitto" and obs.version
    else:
        assert result.state is State.SECURE, result.findings
        assert obs.auth_required is True


# --- an ACL: Mosquitto grants every subscription and withholds what the ACL denies --------


def scan_mqtt(port: int) -> TargetResult:
    return probe({"name": "m", "kind": "mqtt", "address": f"{HOST}:{port}", "holds": ["pii"]})


@pytest.fixture
def mosquitto() -> Iterator[Callable[..., Server]]:
    require(shutil.which("mosquitto") is not None, "mosquitto is not installed")
    started: list[Server] = []

    def launch(**options: Any) -> Server:
        broker = launch_mosquitto(anonymous=True, **options)
        started.append(broker)
        return broker.wait()

    yield launch
    for broker in started:
        broker.stop()


@pytest.mark.parametrize(
    "acl",
    ["user admin\ntopic readwrite #\n", "topic read #\n"],
    ids=["denies-anonymous", "lets-anonymous-read-devices"],
)
def test_a_withheld_sys_topic_keeps_the_finding_and_says_so(
    mosquitto: Callable[..., Server], acl: str
) -> None:
    """Anonymous clients connect, and Mosquitto answers their SUBSCRIBE with "granted" (under
    MQTT 3.1.1 and 5 alike: its ACL file does not check subscriptions), then withholds the
    $SYS message. An ACL that lets them read every device topic (``#`` does not cover $SYS)
    looks the same from $SYS, so the probe fails closed: readable, with a note."""
    broker = mosquitto(acl=acl)
    result = scan_mqtt(broker.port)
    assert result.state is State.EXPOSED, result.findings
    assert result.findings[0].check == "no-auth"
    assert result.findings[0].severity is Severity.CRITICAL
    assert result.observation.product == "mosquitto" and result.observation.version is None
    (note,) = [n for n in result.observation.notes if "withheld" in n]
    assert "Device topics were not tested, so the finding stands" in note


def test_an_acl_that_lets_anonymous_read_sys_is_readable(
    mosquitto: Callable[..., Server],
) -> None:
    broker = mosquitto(acl="topic read $SYS/#\n")
    result = scan_mqtt(broker.port)
    assert result.state is State.EXPOSED
    assert (
        result.findings[0].check == "no-auth" and result.findings[0].severity is Severity.CRITICAL
    )
    assert result.observation.version


class SilentBroker(Listener):
    """An MQTT broker that is not Mosquitto: it accepts anyone, grants every subscription
    (MQTT 3.1.1 and 5) and has no retained `$SYS/broker/version`."""

    def handle(self, conn: socket.socket) -> None:
        threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with contextlib.suppress(OSError), conn:
            while data := conn.recv(4096):
                if data[0] == 0x10:  # CONNECT: the protocol level is byte 8
                    conn.sendall(b"\x20\x03\x00\x00\x00" if data[8] == 5 else b"\x20\x02\x00\x00")
                elif data[0] == 0x82:  # SUBSCRIBE: granted, QoS 0
                    conn.sendall(b"\x90\x03" + data[2:4] + b"\x00")
                elif data[0] == 0xE0:
                    return


def test_silence_from_another_broker_stays_readable() -> None:
    """Fail closed: a broker that grants the subscription and has no such retained message
    (most brokers but Mosquitto) may well let anonymous clients read everything."""
    broker = SilentBroker()
    try:
        result = scan_mqtt(broker.port)
    finally:
        broker.stop()
    assert result.state is State.EXPOSED
    assert result.findings[0].check == "no-auth"


@pytest.mark.parametrize("code", [1, 2, 3])
def test_a_connack_that_refuses_for_another_reason_is_not_secure(code: int) -> None:
    """CONNACK 1 (protocol version), 2 (client identifier) and 3 (server unavailable) do
    not refuse the anonymous client itself: the probe cannot tell, and says so."""
    broker = TcpServer(reply=bytes([0x20, 0x02, 0x00, code]))
    try:
        result = probe({"name": "m", "kind": "mqtt", "address": f"{HOST}:{broker.port}"})
    finally:
        broker.stop()
    assert result.state is State.UNREACHABLE
    error = result.observation.error or ""
    assert error.startswith("cannot tell whether anonymous clients are refused: CONNACK")

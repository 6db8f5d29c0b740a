"""MQTT 3.1.1: does the broker accept an anonymous client, and let it subscribe?"""

from __future__ import annotations

import asyncio
import os
import struct
from typing import Any, ClassVar

from pydantic import field_validator

from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.probes.wire import Wire
from safemirror.guard.spec import Strict, Target

CONNACK_CODES = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}
VERSION_WAIT = 0.5  # seconds to wait for the retained $SYS version message


class MqttSettings(Strict):
    tls: bool = False  # connect with TLS from the start (port 8883)
    topic: str = "$SYS/broker/version"  # metadata topic; never a wildcard

    @field_validator("topic")
    @classmethod
    def _one_topic(cls, value: str) -> str:
        """One topic name: a wildcard would receive device messages."""
        if not value or "+" in value or "#" in value or "\0" in value:
            raise ValueError("must be one topic name, without the wildcards + and #")
        return value


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str) -> bytes:
    body = utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 10) + utf8(client_id)
    return b"\x10" + varint(len(body)) + body


def subscribe_packet(topic: str) -> bytes:
    body = struct.pack("!H", 1) + utf8(topic) + b"\x00"
    return b"\x82" + varint(len(body)) + body


async def read_packet(wire: Wire, expect: int | None = None) -> tuple[int, bytes]:
    """One control packet; ``expect`` is the required first byte (checked before the rest)."""
    first = (await wire.read_exact(1))[0]
    if expect is not None and first != expect:
        raise ProbeError("not an MQTT broker", connected=True)
    size, shift = 0, 0
    for _ in range(4):
        byte = (await wire.read_exact(1))[0]
        size |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if size > 1 << 16:
        raise ProbeError("MQTT packet too large for a probe", connected=True)
    return first, await wire.read_exact(size)


def _is_sys(topic: str) -> bool:
    return topic.startswith("$SYS/")


async def _version(wire: Wire) -> str | None:
    """The retained version message (e.g. ``mosquitto version 2.0.11``), if sent quickly."""
    try:
        async with asyncio.timeout(VERSION_WAIT):
            while True:
                first, body = await read_packet(wire)
                if first >> 4 == 3:
                    tlen = struct.unpack_from("!H", body)[0]
                    start = 2 + tlen + (2 if first & 0x06 else 0)
                    return body[start : start + 64].decode("utf-8", "replace").strip()
    except (TimeoutError, ProbeError, IndexError):
        return None


@register
class MqttProbe(Probe):
    kind = "mqtt"
    title = "MQTT broker (Mosquitto, EMQX, HiveMQ…)"
    sends: ClassVar[str] = (
        "an MQTT 3.1.1 CONNECT without user name or password (clean session); if accepted, "
        "one SUBSCRIBE to `$SYS/broker/version` (QoS 0) — never a wildcard — and reads at "
        "most that one retained message, then DISCONNECT."
    )
    default_port = 1883
    Settings = MqttSettings
    example: ClassVar[dict[str, Any]] = {
        "name": "device-telemetry",
        "kind": "mqtt",
        "address": "127.0.0.1:1883",
        "holds": ["pii"],
        "expect": {"listen": "loopback"},
    }

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        settings = target.settings_as(MqttSettings)
        ep, obs.product = target.endpoint, "MQTT broker"
        obs.tls_offered = True if settings.tls else None
        obs.tls_required = settings.tls
        async with await Wire.open(ep.host, ep.port, target.timeout, tls=settings.tls) as wire:
            obs.reachable = True
            await wire.send(connect_packet(f"safemirror-guard-{os.urandom(4).hex()}"))
            first, body = await read_packet(wire, expect=0x20)
            if len(body) != 2:
                raise ProbeError("not an MQTT broker", connected=True)
            if body[1] != 0:
                obs.auth_required = True
                obs.notes.append(
                    f"anonymous CONNECT refused: {CONNACK_CODES.get(body[1], body[1])}"
                )
                return
            obs.auth_required = False
            # established now; restated once the broker answers the SUBSCRIBE
            connected = obs.expose("anonymous-limited", "accepts anonymous connections")
            await wire.send(subscribe_packet(settings.topic))
            first, body = await read_packet(wire)
            granted = first >> 4 == 9 and len(body) >= 3 and body[2] != 0x80
            obs.withdraw(connected)
            if granted:
                obs.expose(
                    "no-auth",
                    f"accepts anonymous clients and lets them subscribe ({settings.topic})",
                )
            else:
                obs.expose("anonymous-limited", "accepts anonymous connections (subscribe refused)")
            # only a $SYS topic carries the broker's version; any other retained message is
            # a device's payload, never read
            banner = await _version(wire) if granted and _is_sys(settings.topic) else None
            if banner:
                words = banner.split()
                obs.product = words[0] if len(words) > 1 else obs.product
                obs.version, obs.version_public = words[-1], True
            await wire.send(b"\xe0\x00")

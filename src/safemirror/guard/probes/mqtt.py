"""MQTT: does the broker accept an anonymous client, and let it subscribe and read?"""

from __future__ import annotations

import asyncio
import os
import struct
from typing import Any, ClassVar

from pydantic import field_validator

from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.mqtt_wire import (
    DISCONNECT,
    MOSQUITTO_AUTO_ID,
    assigned_client_id,
    connect_packet,
    read_packet,
    subscribe_packet,
)
from safemirror.guard.probes.registry import register
from safemirror.guard.probes.wire import (
    ClientCertRefused,
    Wire,
    client_cert_required,
    plaintext_or_tls,
)
from safemirror.guard.spec import Strict, Target

CONNACK_CODES = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}
#: The CONNACK codes that refuse the anonymous client itself; the others (unacceptable
#: protocol version, client identifier rejected, server unavailable) say nothing of it.
AUTH_REFUSALS = {4, 5}
VERSION_WAIT = 0.5  # seconds to wait for the retained $SYS version message
#: Retained by every Mosquitto (with its $SYS tree on): its absence there means withheld.
MOSQUITTO_RETAINED = "$SYS/broker/version"


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


async def _is_mosquitto(target: Target, tls: bool) -> bool:
    """Whether the broker is Mosquitto: asked with an MQTT 5 CONNECT without a client
    identifier, it assigns one in its own format. Any failure is "not known to be"."""
    ep = target.endpoint
    try:
        async with await Wire.open(ep.host, ep.port, target.timeout, tls=tls) as wire:
            await wire.send(connect_packet("", level=5))
            _, body = await read_packet(wire, expect=0x20)
            await wire.send(DISCONNECT)
        assigned = assigned_client_id(body)
    except (ProbeError, ValueError, IndexError, struct.error):
        return False
    return assigned is not None and MOSQUITTO_AUTO_ID.fullmatch(assigned) is not None


@register
class MqttProbe(Probe):
    kind = "mqtt"
    title = "MQTT broker (Mosquitto, EMQX, HiveMQ…)"
    sends: ClassVar[str] = (
        "an MQTT 3.1.1 CONNECT without user name or password (clean session); if accepted, "
        "one SUBSCRIBE to `$SYS/broker/version` (QoS 0) — never a wildcard — and reads at "
        "most that one retained message, then DISCONNECT. When the subscription is granted "
        "but that message does not come, one MQTT 5 CONNECT without a client identifier "
        "(Mosquitto tells itself by the one it assigns), then DISCONNECT."
    )
    default_port = 1883
    Settings = MqttSettings
    connack: int | None = None  # the CONNACK return code, once the broker answered
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
        # a TLS-only port resets (or answers with a TLS alert) a plaintext CONNECT
        try:
            await plaintext_or_tls(
                lambda tls: self._talk(target, settings, tls, obs),
                tls=settings.tls,
                spoke=lambda: self.connack is not None,
                host=ep.host,
                port=ep.port,
                timeout=target.timeout,
            )
        except ClientCertRefused:  # require_certificate true
            client_cert_required(obs)

    async def _talk(
        self, target: Target, settings: MqttSettings, tls: bool, obs: Observation
    ) -> None:
        ep = target.endpoint
        obs.tls_offered = True if tls else None  # MQTT serves TLS on a separate port
        obs.tls_required = tls
        async with await Wire.open(ep.host, ep.port, target.timeout, tls=tls) as wire:
            obs.reachable = True
            await wire.send(connect_packet(f"safemirror-guard-{os.urandom(4).hex()}"))
            first, body = await read_packet(wire, expect=0x20)
            if len(body) != 2:
                raise ProbeError("not an MQTT broker", connected=True)
            self.connack = body[1]  # it speaks MQTT: no TLS-only port
            if body[1] != 0:
                why = CONNACK_CODES.get(body[1], f"return code {body[1]}")
                if body[1] not in AUTH_REFUSALS:  # fail closed: busy, or not our protocol
                    raise ProbeError(
                        f"cannot tell whether anonymous clients are refused: CONNACK {why}",
                        connected=True,
                    )
                obs.auth_required = True
                obs.notes.append(f"anonymous CONNECT refused: {why}")
                return
            obs.auth_required = False
            # established now; restated once the broker answers the SUBSCRIBE
            connected = obs.expose("anonymous-limited", "accepts anonymous connections")
            await wire.send(subscribe_packet(settings.topic))
            first, body = await read_packet(wire)
            granted = first >> 4 == 9 and len(body) >= 3 and body[2] != 0x80
            obs.withdraw(connected)
            if not granted:
                obs.expose("anonymous-limited", "accepts anonymous connections (subscribe refused)")
                await wire.send(DISCONNECT)
                return
            obs.expose(
                "no-auth", f"accepts anonymous clients and lets them subscribe ({settings.topic})"
            )
            # only a $SYS topic carries the broker's version; any other retained message is
            # a device's payload, never read
            banner = await _version(wire) if _is_sys(settings.topic) else None
            await wire.send(DISCONNECT)
        if banner:
            words = banner.split()
            obs.product = words[0] if len(words) > 1 else obs.product
            obs.version, obs.version_public = words[-1], True
        elif settings.topic == MOSQUITTO_RETAINED and await _is_mosquitto(target, tls):
            # Mosquitto grants every subscription (its ACL file checks only what is
            # delivered) and retains this topic: it was withheld. That does not show the
            # device topics are: `topic read #` for anonymous clients does not cover $SYS,
            # so the finding stands (fail closed), and the note says what was seen.
            obs.product = "mosquitto"
            obs.notes.append(
                f"Mosquitto granted the subscription to {MOSQUITTO_RETAINED} but withheld "
                "the message it retains there: an ACL may deny anonymous clients $SYS (or "
                "sys_interval is 0). Device topics were not tested, so the finding stands: "
                "check what the ACL lets anonymous clients read ('topic read #' does not "
                "cover $SYS)"
            )

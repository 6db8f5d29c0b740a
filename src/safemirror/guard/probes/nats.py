"""NATS: read the server's INFO (auth_required, TLS, version) and confirm with CONNECT/PING."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from safemirror import __version__
from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.probes.wire import (
    ClientCertRefused,
    Wire,
    client_cert_required,
    plaintext_or_tls,
)
from safemirror.guard.spec import Strict, Target

CONNECT = {
    "verbose": False,
    "pedantic": False,
    "tls_required": False,
    "name": "safemirror-guard",
    "lang": "python",
    "version": __version__,
    "protocol": 1,
}


class NatsSettings(Strict):
    confirm: bool = True  # send CONNECT + PING to confirm anonymous access


#: ``-ERR`` texts that mean "credentials needed" (a wrong, missing, expired or revoked one).
_AUTH_REFUSAL = re.compile(r"Authorization Violation|Authentication", re.IGNORECASE)


async def _answer(wire: Wire) -> bytes:
    """The server's answer to CONNECT + PING: the first line that is not an ``+OK`` or an
    asynchronous ``INFO`` (a cluster announcing its members)."""
    for _ in range(8):
        line = await wire.read_line()
        if not line.startswith((b"+OK", b"INFO ")):
            return line
    raise ProbeError("no answer to PING among the server's lines", connected=True)


def parse_info(line: bytes) -> dict[str, Any]:
    if not line.startswith(b"INFO "):
        raise ProbeError("not a NATS server", connected=True)
    try:
        data = json.loads(line[5:].decode("utf-8", "replace"))
    except ValueError:
        raise ProbeError("NATS INFO is not JSON", connected=True) from None
    if not isinstance(data, dict):
        raise ProbeError("NATS INFO is not an object", connected=True)
    return data


@register
class NatsProbe(Probe):
    kind = "nats"
    title = "NATS"
    sends: ClassVar[str] = (
        "nothing until the server's `INFO` line (version, auth_required, tls_required); then "
        "`CONNECT` without credentials (upgrading to TLS first when the server requires it) "
        "and `PING`, expecting `PONG` or `-ERR 'Authorization Violation'`. It subscribes to "
        "nothing."
    )
    default_port = 4222
    Settings = NatsSettings
    example: ClassVar[dict[str, Any]] = {
        "name": "device-bus",
        "kind": "nats",
        "address": "127.0.0.1:4222",
        "holds": ["internal"],
        "expect": {"tls": "required"},
    }

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        settings = target.settings_as(NatsSettings)
        ep, obs.product = target.endpoint, "NATS"
        # no INFO in plaintext: a port where TLS comes first (`handshake_first`, or a
        # TLS terminator in front) stays silent, resets, or answers with a TLS alert
        try:
            await plaintext_or_tls(
                lambda tls: self._talk(target, settings, tls, obs),
                tls=False,
                spoke=lambda: obs.auth_required is not None,
                host=ep.host,
                port=ep.port,
                timeout=target.timeout,
            )
        except ClientCertRefused:  # tls_verify: the client certificate is the credential
            client_cert_required(obs)

    async def _talk(
        self, target: Target, settings: NatsSettings, tls: bool, obs: Observation
    ) -> None:
        ep = target.endpoint
        async with await Wire.open(ep.host, ep.port, target.timeout, tls=tls) as wire:
            obs.reachable = True
            info = parse_info(await wire.read_line())
            obs.version = str(info["version"]) if "version" in info else None
            obs.version_public = obs.version is not None
            obs.tls_required = tls or bool(info.get("tls_required"))
            obs.tls_offered = obs.tls_required or bool(info.get("tls_available"))
            obs.auth_required = bool(info.get("auth_required"))
            obs.metadata["jetstream"] = bool(info.get("jetstream"))
            verify = bool(info.get("tls_verify"))  # a client certificate is the credential
            if not settings.confirm:
                if not obs.auth_required and not verify:
                    obs.expose("no-auth", "INFO says auth_required is false")
                return
            if obs.tls_required and not tls:  # announced in INFO: upgrade in place
                await wire.start_tls()
            await wire.send(b"CONNECT " + json.dumps(CONNECT).encode() + b"\r\nPING\r\n")
            reply = await _answer(wire)
            said = reply.decode("utf-8", "replace").strip()[:120]
            if reply.startswith(b"PONG"):
                obs.auth_required = False
                obs.expose("no-auth", "accepts CONNECT without credentials (PING answered)")
            elif reply.startswith(b"-ERR") and _AUTH_REFUSAL.search(said):
                obs.auth_required = True
                obs.notes.append(said)
            elif not obs.auth_required:  # fail closed: INFO's word stands, with the refusal
                obs.expose("no-auth", "INFO says auth_required is false")
                obs.notes.append(f"CONNECT refused for another reason: {said}")
            else:
                raise ProbeError(
                    f"cannot tell whether credentials are required: {said}", connected=True
                )

"""RabbitMQ: AMQP 0-9-1 login with guest/guest, and the management HTTP API when present."""

from __future__ import annotations

import asyncio
import functools
import struct
from typing import Any, ClassVar

import httpx
from pydantic import field_validator

from safemirror.guard.address import parse_url
from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes import httpbase
from safemirror.guard.probes.amqp_wire import (
    PROTOCOL_HEADER,
    decode_table,
    encode_table,
    longstr,
    method_frame,
    parse_close,
    read_method,
    shortstr,
)
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.probes.wire import (
    ClientCertRefused,
    Wire,
    client_cert_required,
    plaintext_or_tls,
)
from safemirror.guard.spec import Strict, Target

MANAGEMENT_PORT = 15672
CLIENT_PROPERTIES = {
    "product": "safemirror-guard",
    "capabilities": {"authentication_failure_close": True},
}


class AmqpSettings(Strict):
    vhost: str = "/"
    tls: bool = False  # connect with TLS from the start (port 5671)
    try_default_credentials: bool = True
    check_management: bool = True
    management_url: str | None = None  # default: http://HOST:15672

    @field_validator("management_url")
    @classmethod
    def _outsider_url(cls, value: str | None) -> str | None:
        """An http(s) URL without credentials: the probe asks as an outsider, and the URL
        is reported."""
        return None if value is None else parse_url(value, MANAGEMENT_PORT).url


async def amqp_login(
    *,
    host: str,
    port: int,
    timeout: float,
    tls: bool,
    credentials: tuple[str, str] | None,
    vhost: str,
    obs: Observation,
) -> None:
    """Handshake and PLAIN login (without ``credentials``: the handshake up to
    Connection.Start only). A login the broker accepts is recorded in ``obs`` at once
    (restated if the vhost is refused), before the vhost is opened and the connection
    closed."""
    async with await Wire.open(host, port, timeout, tls=tls) as wire:
        obs.reachable = True
        await wire.send(PROTOCOL_HEADER)
        class_id, method_id, args = await read_method(wire)
        if (class_id, method_id) != (10, 10):
            raise ProbeError("not an AMQP 0-9-1 server", connected=True)
        props, pos = decode_table(args, 2)
        mechanisms = args[pos + 4 : pos + 4 + struct.unpack_from("!I", args, pos)[0]].decode()
        obs.product = str(props.get("product", "AMQP broker"))
        obs.version = str(props["version"]) if "version" in props else None
        obs.version_public = obs.version is not None
        obs.metadata["mechanisms"] = mechanisms.split()
        if credentials is None:
            return
        offered = mechanisms.split()
        mechanism = next((m for m in ("PLAIN", "AMQPLAIN") if m in offered), None)
        if mechanism is None:  # EXTERNAL (client certificates) and the like: no password
            obs.notes.append(f"no password mechanism offered ({mechanisms}): guest not tried")
            return
        user, password = credentials
        response = (
            b"\0" + user.encode() + b"\0" + password.encode()
            if mechanism == "PLAIN"  # AMQPLAIN: a field table without its length
            else encode_table({"LOGIN": user, "PASSWORD": password})[4:]
        )
        await wire.send(
            method_frame(
                10,
                11,
                encode_table(CLIENT_PROPERTIES)
                + shortstr(mechanism)
                + longstr(response)
                + shortstr("en_US"),
            )
        )
        try:
            class_id, method_id, args = await read_method(wire)
        except ProbeError as exc:
            if "closed" in exc.reason:  # brokers without the capability just hang up
                return
            raise
        if (class_id, method_id) == (10, 50):
            return
        if (class_id, method_id) != (10, 30):
            raise ProbeError("unexpected AMQP reply to the login", connected=True)
        detail = f"AMQP accepts user {user!r} with its default password"
        accepted = obs.expose("default-credentials", detail)  # Tune: the login went through
        channel_max, frame_max, _ = struct.unpack_from("!HIH", args)
        await wire.send(method_frame(10, 31, struct.pack("!HIH", channel_max, frame_max, 0)))
        await wire.send(method_frame(10, 40, shortstr(vhost) + shortstr("") + b"\0"))
        class_id, method_id, args = await read_method(wire)
        if (class_id, method_id) == (10, 50):
            code, text = parse_close(args)
            obs.notes.append(f"vhost {vhost!r} refused: {code} {text}")
            obs.withdraw(accepted)
            obs.expose("default-credentials", f"{detail} (but not to its vhost)")
        else:
            await wire.send(
                method_frame(
                    10, 50, struct.pack("!H", 200) + shortstr("bye") + struct.pack("!HH", 0, 0)
                )
            )
            await read_method(wire)  # CloseOk


async def _ask(
    http: httpx.AsyncClient, url: str, timeout: float, auth: tuple[str, str] | None = None
) -> httpx.Response:
    """One management API request, its whole answer within ``timeout`` (a trickle too)."""
    try:
        return await asyncio.wait_for(httpbase.get(http, url, auth=auth), timeout)
    except TimeoutError:
        raise ProbeError(f"no complete answer within {timeout:g} s", connected=True) from None


def _silent_management(exc: ProbeError) -> ProbeError:
    return ProbeError(f"management API did not answer: {exc.reason}", connected=True)


@register
class AmqpProbe(Probe):
    kind = "amqp"
    title = "RabbitMQ (AMQP 0-9-1) and its management API"
    sends: ClassVar[str] = (
        "the AMQP 0-9-1 protocol header; reads Connection.Start (product, version, auth "
        "mechanisms); logs in once with PLAIN (or AMQPLAIN) guest/guest and opens the vhost, "
        "then closes. "
        "When the management API listens (default port 15672) it GETs `/api/overview` "
        "without credentials, then with guest/guest (counts of queues and connections only)."
    )
    default_port = 5672
    Settings = AmqpSettings
    default_credentials = (("guest", "guest"),)
    example: ClassVar[dict[str, Any]] = {
        "name": "events-broker",
        "kind": "amqp",
        "address": "127.0.0.1:5672",
        "holds": ["internal"],
        "settings": {"management_url": "http://127.0.0.1:15672"},
    }

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        settings = target.settings_as(AmqpSettings)
        ep, obs.product = target.endpoint, "AMQP broker"
        obs.auth_required = True
        tls = settings.tls
        obs.tls_offered = True if tls else None
        obs.tls_required = tls
        try:
            if settings.try_default_credentials:
                for pair in self.default_credentials:
                    async with ctx.limiter.attempt(ep.host):
                        tls = await self._login(target, settings, tls, pair, obs)
            else:  # the port is still asked who it is: a store that is down is not secure
                await self._login(target, settings, tls, None, obs)
                obs.notes.append("default credentials not tried (settings)")
        except ClientCertRefused:  # ssl_options.fail_if_no_peer_cert
            client_cert_required(obs)
        obs.settled = True  # the AMQP port has answered; the management API is auxiliary
        if settings.check_management:
            await self._management(target, ctx, settings, obs)

    async def _login(
        self,
        target: Target,
        settings: AmqpSettings,
        tls: bool,
        credentials: tuple[str, str] | None,
        obs: Observation,
    ) -> bool:
        """One login (or the handshake only); retried over TLS when a plaintext attempt
        meets a TLS-only port (it resets, or answers the protocol header with a TLS
        alert). Returns whether TLS was used."""
        ep = target.endpoint
        login = functools.partial(
            amqp_login,
            host=ep.host,
            port=ep.port,
            timeout=target.timeout,
            credentials=credentials,
            vhost=settings.vhost,
            obs=obs,
        )

        async def attempt(use_tls: bool) -> None:
            if use_tls and not tls:  # a TLS-only port, found by the plaintext attempt
                obs.tls_offered = obs.tls_required = True
            await login(tls=use_tls)

        return await plaintext_or_tls(
            attempt,
            tls=tls,
            spoke=lambda: "mechanisms" in obs.metadata,  # Connection.Start read: AMQP
            host=ep.host,
            port=ep.port,
            timeout=target.timeout,
        )

    async def _management(
        self, target: Target, ctx: ProbeContext, settings: AmqpSettings, obs: Observation
    ) -> None:
        ep = target.endpoint
        base = (
            settings.management_url or f"http://{ep.hostport.rsplit(':', 1)[0]}:{MANAGEMENT_PORT}"
        )
        url = base.rstrip("/") + "/api/overview"
        async with httpbase.client(target) as http:
            try:
                anonymous = await _ask(http, url, target.timeout)
            except ProbeError as exc:
                if exc.connected:  # it listens, but failed: the probe stops here
                    raise _silent_management(exc) from None
                obs.notes.append(f"management API not reachable ({exc.reason})")
                return
            obs.metadata["management"] = base
            if anonymous.status_code == 200:
                self._overview(obs, anonymous)
                obs.expose("no-auth", "management API answers /api/overview without credentials")
                return
            if not settings.try_default_credentials:
                return
            for user, password in self.default_credentials:
                async with ctx.limiter.attempt(ep.host):
                    try:
                        answer = await _ask(http, url, target.timeout, (user, password))
                    except ProbeError as exc:
                        raise _silent_management(exc) from None
                if answer.status_code == 200:
                    self._overview(obs, answer)
                    obs.expose(
                        "default-credentials",
                        f"management API accepts user {user!r} with its default password",
                    )

    @staticmethod
    def _overview(obs: Observation, response: Any) -> None:
        data = httpbase.json_or_none(response)
        if not isinstance(data, dict):
            return
        version = data.get("rabbitmq_version")
        obs.version = obs.version or (version if isinstance(version, str) else None)
        totals = data.get("object_totals")
        for key in ("queues", "exchanges", "connections", "consumers"):
            if isinstance(totals, dict) and isinstance(totals.get(key), int):
                obs.metadata[key] = totals[key]

"""MySQL / MariaDB over the classic protocol: version, TLS, root/anonymous with no password."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.probes.wire import ClientCertRefused, Wire, client_cert_required
from safemirror.guard.spec import Strict, Target

CLIENT_SSL = 0x800
CLIENT_CAPS = 0x1 | 0x4 | 0x200 | 0x2000 | 0x8000 | 0x80000  # 4.1 auth, plugin auth
TLS_REQUIRED_CODES = {3159, 4181}  # require_secure_transport (MySQL, MariaDB)
#: Refusals of the empty password: access denied, denied by the account's auth plugin
#: (unix_socket), account locked (MySQL, MariaDB). Any other error says nothing either way.
REFUSED_CODES = {1045, 1698, 3118, 4151}
#: Errors the server sends only after the empty password was checked and found right.
ACCEPTED_CODES = {
    1862: "expired: a client that supports expired passwords is let in to set a new one",
    1203: "its connection limit is reached now",  # max_user_connections
    1226: "its connection limit is reached now",  # max_connections_per_hour and the like
}
#: Plaintext refusals asked again over TLS when the server offers it: MariaDB refuses a
#: plaintext login under ``require_secure_transport`` as "access denied", as both do for an
#: account that ``REQUIRE SSL``.
RETRY_OVER_TLS = TLS_REQUIRED_CODES | {1045}


class MysqlSettings(Strict):
    # tried with an empty password; "" is the anonymous user
    users: list[str] = Field(default=["root", ""])
    list_databases: bool = True


@dataclass
class Handshake:
    version: str
    caps: int
    plugin: str


@dataclass
class Login:
    ok: bool
    code: int = 0
    message: str = ""


async def read_packet(wire: Wire) -> tuple[int, bytes]:
    head = await wire.read_exact(4)
    size = head[0] | head[1] << 8 | head[2] << 16
    if size > 1 << 20:
        raise ProbeError("not a MySQL server (packet too large)", connected=True)
    return head[3], await wire.read_exact(size)


def packet(seq: int, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def parse_error(payload: bytes) -> tuple[int, str]:
    code = struct.unpack("<H", payload[1:3])[0]
    text = payload[3:]
    if text.startswith(b"#"):
        text = text[6:]
    return code, text.decode("utf-8", "replace")


def parse_handshake(payload: bytes) -> Handshake:
    if payload[:1] == b"\xff":
        code, message = parse_error(payload)
        raise ProbeError(f"refuses this client: {code} {message}", connected=True)
    if payload[:1] != b"\x0a" or b"\0" not in payload[1:]:
        raise ProbeError("not a MySQL/MariaDB server", connected=True)
    end = payload.index(b"\0", 1)
    version = payload[1:end].decode("utf-8", "replace")
    pos = end + 1 + 4 + 8 + 1
    caps = struct.unpack("<H", payload[pos : pos + 2])[0]
    plugin = "mysql_native_password"
    if len(payload) > pos + 8:
        caps |= struct.unpack("<H", payload[pos + 5 : pos + 7])[0] << 16
        auth_len = payload[pos + 7]
        rest = pos + 18 + max(13, auth_len - 8)
        if caps & 0x80000 and rest < len(payload):
            plugin = payload[rest:].split(b"\0", 1)[0].decode("ascii", "replace")
    return Handshake(version, caps, plugin)


def lenenc(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    if first < 0xFB:
        return first, pos + 1
    width = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first, 0)
    return int.from_bytes(data[pos + 1 : pos + 1 + width], "little"), pos + 1 + width


async def show_databases(wire: Wire) -> list[str]:
    await wire.send(packet(0, b"\x03SHOW DATABASES"))
    _, head = await read_packet(wire)
    if head[:1] == b"\xff":
        return []
    columns, _ = lenenc(head, 0)
    for _ in range(columns + 1):  # column definitions, then EOF
        await read_packet(wire)
    names: list[str] = []
    while True:
        _, row = await read_packet(wire)
        if row[:1] in (b"\xfe", b"\xff") and len(row) < 9:
            return names
        size, pos = lenenc(row, 0)
        names.append(row[pos : pos + size].decode("utf-8", "replace"))


def who(user: str) -> str:
    return f"user {user!r}" if user else "the anonymous user ''"


async def login(wire: Wire, user: str, *, tls: bool) -> tuple[Handshake, Login]:
    """Read the greeting and log in as ``user`` with an empty password."""
    _, payload = await read_packet(wire)
    hello = parse_handshake(payload)
    seq, caps = 1, CLIENT_CAPS
    if tls:
        caps |= CLIENT_SSL
        await wire.send(packet(seq, struct.pack("<IIB23x", caps, 1 << 24, 33)))
        await wire.start_tls()
        seq += 1
    body = (
        struct.pack("<IIB23x", caps, 1 << 24, 33)
        + user.encode()
        + b"\0"
        + b"\0"
        + hello.plugin.encode()
        + b"\0"
    )
    await wire.send(packet(seq, body))
    while True:
        seq, reply = await read_packet(wire)
        if reply[:1] == b"\x00":
            return hello, Login(True)
        if reply[:1] == b"\xff":
            code, message = parse_error(reply)
            return hello, Login(False, code, message)
        if reply[:1] == b"\xfe":  # auth switch: the empty password is an empty answer
            await wire.send(packet(seq + 1, b""))
        elif reply[:2] == b"\x01\x03":  # caching_sha2 fast path succeeded; OK follows
            continue
        else:
            return hello, Login(False, 0, "the server wants a full password exchange")


@register
class MysqlProbe(Probe):
    kind = "mysql"
    title = "MySQL / MariaDB"
    sends: ClassVar[str] = (
        "reads the server greeting (version, TLS capability), then one login per user in "
        "`settings.users` (default `root` and the anonymous user `''`) with an empty "
        'password, rate-limited (a plaintext "access denied" is asked again over TLS when '
        "the server offers it); when one is let in, `SHOW DATABASES` (names only) and "
        "`COM_QUIT`."
    )
    default_port = 3306
    Settings = MysqlSettings
    default_credentials = (("root", ""), ("", ""))
    example: ClassVar[dict[str, Any]] = {
        "name": "legacy-mysql",
        "kind": "mysql",
        "address": "127.0.0.1:3306",
        "holds": ["pii"],
        "settings": {"users": ["root", ""]},
    }

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        settings = target.settings_as(MysqlSettings)
        obs.auth_required = True
        unsure: list[str] = []
        for user in settings.users:
            hello, result = await self._attempt(target, ctx, obs, user, tls=False)
            plain = result
            if not plain.ok and hello.caps & CLIENT_SSL and plain.code in RETRY_OVER_TLS:
                # require_secure_transport (MariaDB refuses plaintext like a wrong password)
                # or an account that REQUIRE SSL: what plaintext refused, TLS may let in
                try:
                    hello, result = await self._attempt(target, ctx, obs, user, tls=True)
                except ClientCertRefused:  # the plaintext refusal stands
                    client_cert_required(obs)
                obs.tls_required = obs.tls_required or plain.code in TLS_REQUIRED_CODES
                if result.ok and plain.code not in TLS_REQUIRED_CODES:
                    obs.notes.append(f"{who(user)} refused in plaintext, let in over TLS")
            if obs.tls_required is None:
                obs.tls_required = False
            if result.ok:
                continue
            refusal = f"{result.code} {result.message}".strip()
            if result.code in ACCEPTED_CODES:
                obs.auth_required = False
                why = ACCEPTED_CODES[result.code]
                obs.expose("no-auth", f"accepts the empty password of {who(user)}; {why}")
            elif result.code in REFUSED_CODES | TLS_REQUIRED_CODES:
                obs.notes.append(f"{who(user)} refused: {refusal}")
            else:
                obs.notes.append(f"{who(user)}: {refusal}")
                unsure.append(f"{who(user)}: {refusal}")
        if unsure and not obs.exposures:
            # fail closed: "too many connections" and the like do not mean "password needed"
            raise ProbeError(
                "cannot tell whether an empty password is refused (" + "; ".join(unsure) + ")",
                connected=True,
            )

    async def _attempt(
        self, target: Target, ctx: ProbeContext, obs: Observation, user: str, *, tls: bool
    ) -> tuple[Handshake, Login]:
        """One rate-limited login; when it is let in, the exposure is recorded before the
        database list is asked for."""
        ep, settings = target.endpoint, target.settings_as(MysqlSettings)
        async with (
            ctx.limiter.attempt(ep.host),
            await Wire.open(ep.host, ep.port, target.timeout) as wire,
        ):
            hello, result = await login(wire, user, tls=tls)
            self._greeting(obs, hello)
            if result.ok:
                detail = f"lets {who(user)} in with an empty password"
                obs.auth_required = False
                obs.expose("no-auth", detail, "? databases")
                names = await show_databases(wire) if settings.list_databases else []
                obs.metadata["databases"] = len(names)
                obs.metadata["database_names"] = names[:50]
                obs.expose("no-auth", detail, f"{len(names)} databases")
                await wire.send(packet(0, b"\x01"))
        return hello, result

    @staticmethod
    def _greeting(obs: Observation, hello: Handshake) -> None:
        obs.reachable = True
        version = hello.version.removeprefix("5.5.5-")
        obs.product = "MariaDB" if "MariaDB" in version else "MySQL"
        obs.version = version.split("-", 1)[0]
        obs.version_public = True
        obs.tls_offered = bool(hello.caps & CLIENT_SSL)

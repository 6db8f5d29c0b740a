"""PostgreSQL over its wire protocol (v3): TLS offered/required, trust, default password."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from safemirror.guard.model import Exposure, Observation, ProbeError
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.probes.wire import ClientCertRefused, Wire, client_cert_required
from safemirror.guard.spec import Strict, Target

SSL_REQUEST = struct.pack("!ii", 8, 80877103)
MAX_SCRAM_ITERATIONS = 200_000  # bounds the CPU a hostile server can make us spend
LIST_DATABASES = "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1"


class PostgresSettings(Strict):
    user: str = "postgres"
    database: str = "postgres"
    list_databases: bool = True
    try_default_credentials: bool = True


def _msg(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def startup_message(user: str, database: str) -> bytes:
    params = {"user": user, "database": database, "application_name": "safemirror-guard"}
    body = (
        struct.pack("!i", 196608)
        + b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items())
        + b"\0"
    )
    return struct.pack("!i", len(body) + 4) + body


def parse_error(body: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return fields


class Scram:
    """The client side of SCRAM-SHA-256 (RFC 5802/7677), without channel binding."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = f"n=,r={self.nonce}"

    def initial(self) -> bytes:
        data = b"n,," + self.first_bare.encode()
        return b"SCRAM-SHA-256\0" + struct.pack("!i", len(data)) + data

    def final(self, server_first: bytes) -> bytes:
        text = server_first.decode()
        attrs = dict(p.split("=", 1) for p in text.split(",") if "=" in p)
        nonce, iterations = attrs.get("r", ""), int(attrs.get("i", "0"))
        if not nonce.startswith(self.nonce) or not 0 < iterations <= MAX_SCRAM_ITERATIONS:
            raise ProbeError("unexpected SCRAM challenge", connected=True)
        salted = hashlib.pbkdf2_hmac(
            "sha256", self.password.encode(), base64.b64decode(attrs.get("s", "")), iterations
        )
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={nonce}"
        auth_message = f"{self.first_bare},{text},{without_proof}".encode()
        signature = hmac.new(stored, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


@dataclass
class Session:
    """What one startup attempt established."""

    method: str = "trust"  # trust | password | md5 | scram | other
    authenticated: bool = False
    error: dict[str, str] | None = None
    params: dict[str, str] = field(default_factory=dict)
    databases: list[str] | None = None


async def _read(wire: Wire) -> tuple[bytes, bytes]:
    head = await wire.read_exact(5)
    kind, size = head[:1], struct.unpack("!i", head[1:])[0]
    if kind not in b"RSEKZNTDCIVvn" or not 4 <= size <= 1 << 20:
        raise ProbeError("not a PostgreSQL server", connected=True)
    return kind, await wire.read_exact(size - 4)


async def _authenticate(
    wire: Wire,
    code: int,
    body: bytes,
    *,
    user: str,
    password: str | None,
    session: Session,
    scram: list[Scram],
) -> bool:
    """Answer one authentication request; False when there is no password to give."""
    if code == 3:
        session.method = "password"
        if password is None:
            return False
        await wire.send(_msg(b"p", password.encode() + b"\0"))
    elif code == 5:
        session.method = "md5"
        if password is None:
            return False
        inner = hashlib.md5((password + user).encode()).hexdigest()
        outer = hashlib.md5(inner.encode() + body[4:8]).hexdigest()
        await wire.send(_msg(b"p", b"md5" + outer.encode() + b"\0"))
    elif code == 10:
        session.method = "scram"
        if password is None or b"SCRAM-SHA-256\0" not in body[4:]:
            return False
        scram.append(Scram(password))
        await wire.send(_msg(b"p", scram[0].initial()))
    elif code == 11 and scram:
        await wire.send(_msg(b"p", scram[0].final(body[4:])))
    elif code != 12:
        session.method = f"auth code {code}"
        return False
    return True


async def run_session(
    ep_host: str,
    ep_port: int,
    timeout: float,
    settings: PostgresSettings,
    *,
    tls: bool,
    password: str | None = None,
    admitted: Callable[[], object] = lambda: None,
) -> Session:
    """One connection: optional TLS upgrade, startup, authentication, database list.
    ``admitted`` is told as soon as the server lets the client in (AuthenticationOk), even
    when it then refuses the session (no such database or role)."""
    session = Session()
    async with await Wire.open(ep_host, ep_port, timeout) as wire:
        if tls:
            await wire.send(SSL_REQUEST)
            if await wire.read_exact(1) != b"S":
                raise ProbeError("the server does not offer TLS", connected=True)
            await wire.start_tls()
        await wire.send(startup_message(settings.user, settings.database))
        scram: list[Scram] = []
        while True:
            kind, body = await _read(wire)
            if kind == b"E":
                session.error = parse_error(body)
                return session
            if kind == b"R":
                code = struct.unpack("!i", body[:4])[0]
                if code == 0:  # in: what follows (no such database…) does not undo it
                    session.authenticated = True
                    admitted()
                elif not await _authenticate(
                    wire,
                    code,
                    body,
                    user=settings.user,
                    password=password,
                    session=session,
                    scram=scram,
                ):
                    return session
            elif kind == b"S":
                name, _, rest = body.partition(b"\0")
                session.params[name.decode()] = rest.split(b"\0", 1)[0].decode("utf-8", "replace")
            elif kind == b"Z":
                break
        if settings.list_databases:
            session.databases = await _list_databases(wire)
        await wire.send(_msg(b"X", b""))
    return session


async def _list_databases(wire: Wire) -> list[str]:
    await wire.send(_msg(b"Q", LIST_DATABASES.encode() + b"\0"))
    names: list[str] = []
    while True:
        kind, body = await _read(wire)
        if kind == b"D" and struct.unpack("!h", body[:2])[0] >= 1:
            size = struct.unpack("!i", body[2:6])[0]
            names.append(body[6 : 6 + size].decode("utf-8", "replace"))
        elif kind == b"Z":
            return names


#: SQLSTATEs of a refusal: no pg_hba.conf line lets the client in (or one rejects it), or
#: the password is wrong. Anything else before authentication (too many clients, starting
#: up, shutting down) says nothing about whether a password is needed.
REFUSALS = {"28000", "28P01"}


def _refused(session: Session) -> bool:
    return (
        session.error is not None
        and not session.authenticated
        and (session.error.get("C") in REFUSALS)
    )


def _undecided(session: Session) -> ProbeError | None:
    """Fail closed: a session that ended before authentication for another reason than a
    refusal cannot say whether a password is needed."""
    if session.error is None or session.authenticated or _refused(session):
        return None
    err = session.error
    reason = f"{err.get('C', '')} {err.get('M', '')}".strip()
    return ProbeError(f"cannot tell whether a password is needed: {reason}", connected=True)


@register
class PostgresProbe(Probe):
    kind = "postgres"
    title = "PostgreSQL"
    sends: ClassVar[str] = (
        "an SSLRequest (is TLS offered?), then a StartupMessage for user `postgres`, database "
        "`postgres` in plaintext (and over TLS if plaintext is refused). If the server lets "
        "it in without a password (trust) it lists database names from `pg_database`. If it "
        "asks for a password, it tries the default list once (SCRAM-SHA-256, MD5 or "
        "cleartext as the server asks), rate-limited."
    )
    default_port = 5432
    Settings = PostgresSettings
    default_credentials = (("postgres", "postgres"),)
    example: ClassVar[dict[str, Any]] = {
        "name": "prod-db",
        "kind": "postgres",
        "address": "db.internal:5432",
        "holds": ["pii", "secrets"],
        "expect": {"tls": "required", "listen": "private"},
    }

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        settings = target.settings_as(PostgresSettings)
        ep, obs.product = target.endpoint, "PostgreSQL"
        async with await Wire.open(ep.host, ep.port, target.timeout) as wire:
            obs.reachable = True
            await wire.send(SSL_REQUEST)
            answer = await wire.read_exact(1)
            if answer not in (b"S", b"N", b"E"):
                raise ProbeError("not a PostgreSQL server", connected=True)
            obs.tls_offered = answer == b"S"
        detail = f"lets user {settings.user!r} in without a password"

        def trusted() -> None:
            obs.auth_required = False
            obs.expose("no-auth", detail, "? databases")

        session = await run_session(
            ep.host, ep.port, target.timeout, settings, tls=False, admitted=trusted
        )
        tls = False
        if _refused(session) and obs.tls_offered:  # hostssl only, or host … reject
            try:
                over_tls = await run_session(
                    ep.host, ep.port, target.timeout, settings, tls=True, admitted=trusted
                )
            except ClientCertRefused:  # a TLS terminator in front that requires one
                self._record(obs, session, settings.user)
                client_cert_required(obs)
                return
            if not _refused(over_tls):  # TLS got past what refused plaintext
                session, tls = over_tls, True
        obs.tls_required = tls if session.error is None or session.authenticated or tls else None
        self._record(obs, session, settings.user)
        if session.authenticated:
            count = len(session.databases) if session.databases is not None else "?"
            if (session.error or {}).get("C") == "28000":  # trust, checked before the role
                obs.withdraw(Exposure("no-auth", detail, "? databases"))
                detail = (
                    f"trusts user {settings.user!r} without a password (no such role: "
                    "the roles that exist get in the same way)"
                )
            obs.expose("no-auth", detail, f"{count} databases")
            return
        undecided = _undecided(session)
        if undecided is not None:
            raise undecided
        if session.error is None and settings.try_default_credentials:
            await self._try_defaults(target, ctx, obs, settings, tls)

    def _record(self, obs: Observation, session: Session, user: str) -> None:
        obs.auth_required = not session.authenticated
        if session.error is not None:
            err = session.error
            obs.notes.append(f"server refused {user!r}: {err.get('C', '')} {err.get('M', '')}")
        else:
            obs.notes.append(f"authentication method offered: {session.method}")
        if "server_version" in session.params:
            obs.version = session.params["server_version"].split(" ", 1)[0]
        if session.databases is not None:
            obs.metadata["databases"] = len(session.databases)
            obs.metadata["database_names"] = session.databases[:50]

    async def _try_defaults(
        self,
        target: Target,
        ctx: ProbeContext,
        obs: Observation,
        settings: PostgresSettings,
        tls: bool,
    ) -> None:
        ep = target.endpoint
        for user, password in self.default_credentials:
            detail = f"accepts user {user!r} with its well-known default password"
            attempt = settings.model_copy(update={"user": user})
            async with ctx.limiter.attempt(ep.host):
                session = await run_session(
                    ep.host,
                    ep.port,
                    target.timeout,
                    attempt,
                    tls=tls,
                    password=password,
                    admitted=partial(obs.expose, "default-credentials", detail),
                )
            if session.authenticated:
                self._record(obs, session, user)
                obs.auth_required = True
                return
            undecided = _undecided(session)
            if undecided is not None:
                raise undecided

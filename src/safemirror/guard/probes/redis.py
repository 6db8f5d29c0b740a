"""Redis: does it answer ``INFO`` without ``AUTH`` (and outside protected mode)?"""

from __future__ import annotations

import os
from typing import Any, ClassVar

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


class RedisSettings(Strict):
    tls: bool = False  # connect with TLS from the start (a TLS-only port)


# replies that mean: sign in first (NOPERM does not: the client is signed in already, as the
# password-less default user, and only its ACL refuses the command)
_AUTH_ERRORS = {"NOAUTH", "WRONGPASS", "DENIED"}


def _error_code(reply: tuple[str, str] | None) -> str | None:
    """The code of an error reply (``NOAUTH``, ``ERR``…), else None."""
    return reply[1].split(" ", 1)[0] if reply is not None and reply[0] == "-" else None


def _needs_auth(reply: tuple[str, str] | None) -> bool:
    """An error reply that means "sign in first" (Redis before 2.8 said "operation not
    permitted")."""
    return _error_code(reply) in _AUTH_ERRORS or (
        reply is not None and reply[0] == "-" and "operation not permitted" in reply[1].lower()
    )


def _unlikely_key() -> str:
    """A key name no store holds: EXISTS of it reads nothing."""
    return f"safemirror-guard-{os.urandom(8).hex()}"


def resp_command(*args: str) -> bytes:
    """Encode a command as a RESP array of bulk strings."""
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        raw = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


async def read_reply(wire: Wire) -> tuple[str, str]:
    """One RESP reply as ``(type, text)``: ``+`` status, ``-`` error, ``$`` bulk, ``:`` int."""
    line = await wire.read_line()
    kind, body = chr(line[0]), line[1:-2].decode("utf-8", "replace")
    if kind == "$":
        size = int(body)
        if size < 0:
            return "$", ""
        if size > 1 << 20:
            raise ProbeError("Redis reply too large", connected=True)
        data = await wire.read_exact(size + 2)
        return "$", data[:-2].decode("utf-8", "replace")
    if kind in "+-:":
        return kind, body
    raise ProbeError(f"not a Redis reply: {line[:16]!r}", connected=True)


async def _ask(wire: Wire, *command: str) -> tuple[str, str] | None:
    """One command and its reply; None when the server hangs up or stays silent."""
    try:
        await wire.send(resp_command(*command))
        return await read_reply(wire)
    except ProbeError:
        return None


def parse_info(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            out[key.strip()] = value.strip()
    return out


def keyspace(info: dict[str, str]) -> dict[str, Any]:
    """``db0:keys=5,expires=0`` lines → database and key counts."""
    dbs = {k: v for k, v in info.items() if k.startswith("db") and k[2:].isdigit()}
    keys = 0
    for value in dbs.values():
        fields = dict(p.split("=", 1) for p in value.split(",") if "=" in p)
        keys += int(fields.get("keys", "0"))
    return {"databases": len(dbs), "keys": keys}


@register
class RedisProbe(Probe):
    kind = "redis"
    title = "Redis / Valkey"
    sends: ClassVar[str] = (
        "RESP `INFO server`; when it answers, `INFO keyspace` (database and key counts), "
        "then `QUIT`; when INFO is refused for another reason than authentication (renamed "
        "or disabled), `PING` and `DBSIZE`, and when neither tells, `EXISTS` of a random key "
        "name. No keys or values are read. No passwords are tried."
    )
    default_port = 6379
    Settings = RedisSettings
    example: ClassVar[dict[str, Any]] = {
        "name": "session-cache",
        "kind": "redis",
        "address": "127.0.0.1:6379",
        "holds": ["pii"],
        "expect": {"auth": "required", "listen": "loopback"},
    }

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        settings = target.settings_as(RedisSettings)
        ep, obs.product = target.endpoint, "Redis"
        # a TLS-only port hangs up on (or answers with a TLS alert) a plaintext command
        try:
            tls = await plaintext_or_tls(
                lambda tls: self._talk(ep.host, ep.port, target.timeout, tls, obs),
                tls=settings.tls,
                spoke=lambda: obs.auth_required is not None,
                host=ep.host,
                port=ep.port,
                timeout=target.timeout,
            )
        except ClientCertRefused:  # --tls-auth-clients yes
            client_cert_required(obs)
            return
        obs.tls_required = tls
        obs.tls_offered = True if tls else None  # Redis serves TLS on a separate port

    async def _without_info(self, wire: Wire, refusal: str, obs: Observation) -> bool:
        """INFO refused (``refusal``) for another reason than authentication: renamed or
        disabled (as hardening guides advise), or ``NOPERM`` (the default user signs in
        without a password but its ACL denies INFO). PING, DBSIZE and, when neither tells,
        EXISTS of a random key name tell whether commands run without AUTH and how many
        keys they reach. True when an anonymous client is let in, False when a command is
        refused for want of AUTH; a ``ProbeError`` when nothing tells (fail closed: the
        server hung up, or refused every command for other reasons)."""
        code = refusal.split(" ", 1)[0]
        ping = await _ask(wire, "PING")
        pong = ping is not None and ping[0] == "+" and ping[1].upper() == "PONG"
        provisional = None
        if pong:  # a command ran without AUTH: recorded now, restated once DBSIZE answers
            obs.auth_required = False
            provisional = (
                obs.expose("anonymous-limited", "the default user needs no password")
                if code == "NOPERM"
                else obs.expose("no-auth", "answers PING without AUTH", f"INFO refused: {code}")
            )
        size = await _ask(wire, "DBSIZE") if ping is not None else None
        obs.withdraw(provisional)
        counted = size is not None and size[0] == ":" and size[1].isdigit()
        limited = code == "NOPERM" or _error_code(size) == "NOPERM"
        if counted or (pong and not limited):  # commands reach the keyspace without AUTH
            count: int | str = int(size[1]) if size is not None and counted else "?"
            obs.auth_required = False
            obs.metadata["keys"] = count
            verb = "PING" if pong else "DBSIZE"
            obs.expose(
                "no-auth", f"answers {verb} without AUTH", f"INFO refused: {code}; {count} keys"
            )
            return True
        if not limited:
            if _needs_auth(ping) or _needs_auth(size):
                return False
            exists = await _ask(wire, "EXISTS", _unlikely_key()) if size is not None else None
            if exists is not None and exists[0] == ":":
                obs.auth_required = False
                obs.metadata["keys"] = "?"
                obs.expose("no-auth", "answers EXISTS without AUTH", f"INFO refused: {code}")
                return True
            if _needs_auth(exists):
                return False
            if _error_code(exists) != "NOPERM":
                ended = "" if exists is not None else "; then it hung up"
                raise ProbeError(
                    f"cannot tell whether AUTH is required: INFO refused ({refusal[:80]}){ended}",
                    connected=True,
                )
        # the default user needs no password: anonymous clients are in, with its ACL's rights
        obs.auth_required = False
        refused = "INFO and DBSIZE" if pong else "INFO, PING and DBSIZE"
        obs.expose(
            "anonymous-limited",
            f"the default user needs no password (its ACL refuses {refused})",
        )
        return True

    async def _talk(
        self, host: str, port: int, timeout: float, tls: bool, obs: Observation
    ) -> None:
        async with await Wire.open(host, port, timeout, tls=tls) as wire:
            obs.reachable = True
            await wire.send(resp_command("INFO", "server"))
            kind, text = await read_reply(wire)
            if kind == "-":
                code = text.split(" ", 1)[0]
                if not _needs_auth((kind, text)) and await self._without_info(wire, text, obs):
                    return
                obs.auth_required = True
                if code == "DENIED":
                    obs.notes.append("protected mode refuses non-loopback clients")
                elif code not in _AUTH_ERRORS:
                    obs.notes.append(f"INFO refused: {code}")
                return
            info = parse_info(text)
            obs.auth_required = False
            obs.version = info.get("redis_version") or info.get("valkey_version")
            obs.version_public = obs.version is not None
            mode = info.get("redis_mode", "standalone")
            obs.expose("no-auth", "answers INFO without AUTH", f"{mode}, ? keys")
            await wire.send(resp_command("INFO", "keyspace"))
            kind, text = await read_reply(wire)
            if kind == "$":
                obs.metadata.update(keyspace(parse_info(text)))
                count = obs.metadata["keys"]
                obs.expose("no-auth", "answers INFO without AUTH", f"{mode}, {count} keys")
            await wire.send(resp_command("QUIT"))

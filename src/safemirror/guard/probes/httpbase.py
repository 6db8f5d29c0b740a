"""Shared HTTP plumbing for the HTTP-speaking probes: bounded client, error mapping, TLS."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from safemirror import __version__
from safemirror.guard.model import Exposure, Observation, ProbeError
from safemirror.guard.resolve import PinnedBackend
from safemirror.guard.spec import Target

USER_AGENT = f"safemirror-guard/{__version__}"
#: Bytes of an answer's body read at most: a huge or endless body is cut there, unread.
MAX_BODY = 8 << 20
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _transport(verify: bool) -> httpx.AsyncHTTPTransport:
    """httpx's transport, its connections sent to the address the probe is pinned to."""
    transport = httpx.AsyncHTTPTransport(verify=verify, trust_env=False)
    pool = transport._pool
    if not isinstance(pool, httpcore.AsyncConnectionPool):  # pragma: no cover - httpx changed
        raise TypeError("httpx's transport no longer holds an httpcore connection pool")
    pool._network_backend = PinnedBackend(pool._network_backend)
    return transport


def client(target: Target, *, verify: bool = False) -> httpx.AsyncClient:
    """A client bounded by the target's timeout; no redirects, no proxies from env; a probe
    pinned to one of its host's addresses connects there."""
    return httpx.AsyncClient(
        transport=_transport(verify),
        timeout=httpx.Timeout(target.timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


async def get(
    http: httpx.AsyncClient,
    url: str,
    *,
    auth: tuple[str, str] | None = None,
    connected: bool = False,
    method: str = "GET",
    json: Any = None,
) -> httpx.Response:
    """GET ``url`` (or send ``method`` with a ``json`` body); network failures become
    ``ProbeError`` (unreachable)."""
    try:
        return await fetch(http, url, auth, method=method, json=json)
    except httpx.ConnectTimeout:
        raise ProbeError(f"no TCP answer within {http.timeout.connect or 0:g} s") from None
    except httpx.ConnectError as exc:
        raise ProbeError(_connect_reason(exc), connected=connected) from None
    except httpx.TimeoutException:
        raise ProbeError(
            f"connected, but no answer within {http.timeout.read or 0:g} s", connected=True
        ) from None
    except httpx.NetworkError as exc:  # reset or broken off mid-answer
        raise ProbeError(f"connection lost ({type(exc).__name__})", connected=True) from None
    except httpx.HTTPError as exc:
        raise ProbeError(f"not an HTTP server ({type(exc).__name__})", connected=True) from None


async def fetch(
    http: httpx.AsyncClient,
    url: str,
    auth: tuple[str, str] | None = None,
    *,
    method: str = "GET",
    json: Any = None,
) -> httpx.Response:
    """GET ``url`` (or ``method`` it, with a ``json`` body), reading at most ``MAX_BODY``
    bytes of the (decoded) body: the answer returned holds the status, the headers and
    that much of the body."""
    async with http.stream(method, url, auth=auth, json=json) as streamed:
        body = bytearray()
        async for chunk in streamed.aiter_bytes():
            body += chunk
            if len(body) >= MAX_BODY:
                break  # the rest is never read: closing the stream drops the connection
        headers = [
            (name, value)
            for name, value in streamed.headers.multi_items()
            if name.lower() not in _BODY_HEADERS  # the body kept is decoded and may be cut
        ]
        return httpx.Response(
            streamed.status_code,
            headers=headers,
            content=bytes(body[:MAX_BODY]),
            request=streamed.request,
        )


def _connect_reason(exc: BaseException) -> str:
    """The root cause of a connect failure, in words (httpx hides it in the chain)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, ssl.SSLError):
            return f"TLS handshake failed ({seen.reason})"
        seen = seen.__cause__ or seen.__context__
    return f"cannot connect: {exc}"


@dataclass
class OpenPaths:
    """Paths that answer 2xx without credentials: one ``no-auth`` exposure, recorded (and
    restated) the moment each is found, so a later path's failure cannot hide it."""

    obs: Observation
    wording: str  # "answers without credentials on"
    paths: list[str] = field(default_factory=list)
    _fact: Exposure | None = None

    def record(self, path: str, status: int, shown: str | None = None) -> None:
        """``path`` answered ``status``; ``shown`` names it in the finding (where its
        redirects led)."""
        self.obs.metadata.setdefault("status", {})[path] = status
        if 200 <= status < 300:
            self.paths.append(shown or path)
            self.obs.withdraw(self._fact)
            self._fact = self.obs.expose("no-auth", f"{self.wording} {', '.join(self.paths)}")
        self.obs.auth_required = not self.paths


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def server_header(response: httpx.Response) -> str | None:
    value = response.headers.get("server")
    return str(value) if value is not None else None


async def check_tls(target: Target, obs: Observation) -> None:
    """For https targets: TLS is offered; is plain HTTP refused on the same port?"""
    ep = target.endpoint
    if not ep.tls:
        obs.tls_required = False
        return
    obs.tls_offered = True
    plain = (ep.url or "").replace("https://", "http://", 1)
    async with client(target) as http:
        try:
            response = await fetch(http, plain)
            obs.tls_required = response.status_code == 400 and b"HTTPS" in response.content
        except httpx.HTTPError:
            obs.tls_required = True

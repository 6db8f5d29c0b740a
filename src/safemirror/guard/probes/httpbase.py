"""Shared HTTP plumbing for the HTTP-speaking probes: bounded client, error mapping, TLS."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

import httpx

from safemirror import __version__
from safemirror.guard.model import Exposure, Observation, ProbeError
from safemirror.guard.spec import Target

USER_AGENT = f"safemirror-guard/{__version__}"


def client(target: Target, *, verify: bool = False) -> httpx.AsyncClient:
    """A client bounded by the target's timeout; no redirects, no proxies from env."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(target.timeout),
        verify=verify,
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
) -> httpx.Response:
    """GET ``url``; network failures become ``ProbeError`` (unreachable)."""
    try:
        response = await http.get(url, auth=auth)
        await response.aread()
        return response
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

    def record(self, path: str, status: int) -> None:
        self.obs.metadata.setdefault("status", {})[path] = status
        if 200 <= status < 300:
            self.paths.append(path)
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
            response = await http.get(plain)
            obs.tls_required = response.status_code == 400 and b"HTTPS" in response.content
        except httpx.HTTPError:
            obs.tls_required = True

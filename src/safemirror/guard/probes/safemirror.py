"""safemirror's own server: health answers openly; every other /api route needs a key."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from pydantic import Field

from safemirror.guard.address import is_loopback_host
from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes import httpbase, redirects
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.spec import Strict, Target, UrlPath

#: Routes the server serves with POST only (a GET answers 405, which tells nothing), and the
#: body each is asked with: without a key the query never runs; `SELECT 1` reads nothing.
POST_ROUTES: dict[str, dict[str, str]] = {"/api/sql": {"sql": "SELECT 1"}}


class SafemirrorSettings(Strict):
    health_path: UrlPath = "/api/health"
    protected_paths: list[UrlPath] = Field(default=["/api/metrics", "/api/sql"], min_length=1)


@register
class SafemirrorProbe(Probe):
    kind = "safemirror"
    title = "safemirror's own HTTP server"
    sends: ClassVar[str] = (
        "`GET /api/health` (expected to answer 200 without a key), then each protected "
        "path the way the server serves it (`GET /api/metrics`; `POST /api/sql` with "
        '`{"sql": "SELECT 1"}`) without an `Authorization` header, following GET redirects '
        "within the target's origin; any 2xx there means the server answers without a key, "
        "401/403 (or a redirect to a sign-in page) that it asks for one."
    )
    default_port = 8000
    url_address = True
    Settings = SafemirrorSettings
    example: ClassVar[dict[str, Any]] = {
        "name": "metrics-server",
        "kind": "safemirror",
        "address": "http://127.0.0.1:8000",
        "holds": ["pii"],
        "expect": {"listen": "loopback"},
        "remediate": {"command": ["systemctl", "stop", "safemirror-serve"]},
    }

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        settings = target.settings_as(SafemirrorSettings)
        base = target.endpoint.url or ""
        obs.product = "safemirror"
        async with httpbase.client(target) as http:
            health = await httpbase.get(http, base + settings.health_path)
            obs.reachable = True
            if not target.endpoint.tls and not is_loopback_host(target.endpoint.host):
                obs.expose("tls", "serves plain HTTP on a non-loopback address")
            body = httpbase.json_or_none(health)
            if isinstance(body, dict) and body.get("version"):
                obs.version = str(body["version"])
                obs.version_public = True
            if health.status_code != 200:
                obs.notes.append(f"health check answered HTTP {health.status_code}")
            open_paths = httpbase.OpenPaths(obs, "answers without a key on")
            asked = False
            unsure: list[str] = []
            for path in settings.protected_paths:
                followed = await _ask(http, base, path)
                shown = f"{path} (redirected to {followed.final})" if followed.redirected else path
                open_paths.record(path, followed.status, shown)
                if followed.asks:
                    asked = True
                    if followed.redirected:
                        obs.notes.append(f"{path} asks for a key: {followed.chain}")
                elif not followed.open:
                    unsure.append(_described(path, followed))
        if not open_paths.paths and not asked:
            # fail closed: no path asked for a key (404: another service, or an old one)
            raise ProbeError(
                "cannot tell whether a key is needed: " + "; ".join(unsure), connected=True
            )
        obs.notes.extend(f"cannot tell: {what}" for what in unsure)
        await httpbase.check_tls(target, obs)


async def _ask(http: httpx.AsyncClient, base: str, path: str) -> redirects.Followed:
    """Ask ``path`` without a key, with the method the server serves it with."""
    if path in POST_ROUTES:
        return await redirects.follow(
            http, base + path, connected=True, method="POST", json=POST_ROUTES[path]
        )
    return await redirects.follow(http, base + path, connected=True)


def _described(path: str, followed: redirects.Followed) -> str:
    """What a path that tells nothing answered (a 405 names the methods it allows)."""
    text = followed.describe()
    if path in POST_ROUTES:
        text = f"POST {text}"
    allow = followed.answer.headers.get("allow") if followed.status == 405 else None
    return f"{text} (allows {allow})" if allow else text

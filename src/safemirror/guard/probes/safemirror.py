"""safemirror's own server: health answers openly; every other /api route needs a key."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from safemirror.guard.address import is_loopback_host
from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes import httpbase
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.spec import Strict, Target, UrlPath


class SafemirrorSettings(Strict):
    health_path: UrlPath = "/api/health"
    protected_paths: list[UrlPath] = Field(default=["/api/metrics", "/api/sql"], min_length=1)


@register
class SafemirrorProbe(Probe):
    kind = "safemirror"
    title = "safemirror's own HTTP server"
    sends: ClassVar[str] = (
        "`GET /api/health` (expected to answer 200 without a key), then `GET` on each "
        "protected path (`/api/metrics`, `/api/sql`) without an `Authorization` header; "
        "any 2xx there means the server answers without a key."
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
            answers: list[str] = []
            for path in settings.protected_paths:
                answer = await httpbase.get(http, base + path, connected=True)
                open_paths.record(path, answer.status_code)
                answers.append(f"{path} answered HTTP {answer.status_code}")
        statuses = obs.metadata["status"].values()
        if not open_paths.paths and not {401, 403} & set(statuses):
            # fail closed: no path asked for a key (404: another service, or an old one)
            raise ProbeError(
                "cannot tell whether a key is needed: " + "; ".join(answers), connected=True
            )
        await httpbase.check_tls(target, obs)

"""Generic HTTP: do the declared paths answer 2xx without credentials?"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from safemirror.guard.model import Observation
from safemirror.guard.probes import httpbase
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.spec import Strict, Target, UrlPath


class HttpSettings(Strict):
    paths: list[UrlPath] = Field(default=["/"], min_length=1)  # must not answer without credentials
    verify_tls: bool = False


@register
class HttpProbe(Probe):
    kind = "http"
    title = "Generic HTTP service (admin UIs, REST stores, dashboards)"
    sends: ClassVar[str] = (
        "`GET` on each path in `settings.paths` (default `/`) without credentials; a 2xx "
        "answer means it answers without credentials, 401/403 means it asks for them. The "
        "`Server` header is recorded as the disclosed version."
    )
    default_port = 80
    url_address = True
    Settings = HttpSettings
    example: ClassVar[dict[str, Any]] = {
        "name": "couchdb-admin",
        "kind": "http",
        "address": "http://127.0.0.1:5984",
        "holds": ["internal"],
        "settings": {"paths": ["/_all_dbs"]},
    }

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        settings = target.settings_as(HttpSettings)
        base = target.endpoint.url or ""
        obs.product = "HTTP"
        open_paths = httpbase.OpenPaths(obs, "answers without credentials on")
        async with httpbase.client(target, verify=settings.verify_tls) as http:
            for path in settings.paths:
                answer = await httpbase.get(http, base + path, connected=obs.reachable)
                obs.reachable = True
                server = httpbase.server_header(answer)
                if server:
                    obs.product, _, version = server.partition("/")
                    obs.version = version.split(" ", 1)[0] or None
                    obs.version_public = obs.version is not None
                open_paths.record(path, answer.status_code)
        await httpbase.check_tls(target, obs)

"""Generic HTTP: do the declared paths answer 2xx without credentials?"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes import httpbase, redirects
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
        "`GET` on each path in `settings.paths` (default `/`) without credentials, following "
        "redirects within the target's origin (at most 5); a 2xx answer means it answers "
        "without credentials, 401/403/407 (or a redirect to a sign-in page) means it asks "
        "for them, anything else tells nothing. The `Server` header is recorded as the "
        "disclosed version."
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
        unsure: list[str] = []
        async with httpbase.client(target, verify=settings.verify_tls) as http:
            for path in settings.paths:
                followed = await redirects.follow(http, base + path, connected=obs.reachable)
                obs.reachable = True
                server = httpbase.server_header(followed.answer)
                if server:
                    obs.product, _, version = server.partition("/")
                    obs.version = version.split(" ", 1)[0] or None
                    obs.version_public = obs.version is not None
                shown = f"{path} (redirected to {followed.final})" if followed.redirected else path
                open_paths.record(path, followed.status, shown)
                if followed.redirected:
                    obs.metadata.setdefault("redirects", {})[path] = followed.chain
                if followed.asks and followed.redirected:
                    obs.notes.append(f"{path} asks for credentials: {followed.chain}")
                elif not followed.open and not followed.asks:
                    unsure.append(followed.describe())
        if unsure and not open_paths.paths:
            # fail closed: a redirect elsewhere than a sign-in page, a missing path or a
            # server error says nothing of whether the path needs credentials
            raise ProbeError(
                "cannot tell whether credentials are needed: " + "; ".join(unsure),
                connected=True,
            )
        obs.notes.extend(f"cannot tell: {what}" for what in unsure)
        await httpbase.check_tls(target, obs)

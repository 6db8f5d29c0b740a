"""Generic HTTP: do the declared paths answer 2xx without credentials?"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import Field

from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes import httpbase
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.spec import Strict, Target, UrlPath


class HttpSettings(Strict):
    paths: list[UrlPath] = Field(default=["/"], min_length=1)  # must not answer without credentials
    verify_tls: bool = False


#: Statuses that ask for credentials (or refuse the anonymous client).
ASKS = {401, 403, 407}
#: Words in a redirect's target that name a sign-in page.
SIGN_IN = re.compile(r"log-?in|sign-?in|auth|sso|saml|oidc|cas/", re.IGNORECASE)


def asks_for_credentials(answer: httpx.Response) -> bool:
    """401/403/407, or a redirect to a sign-in page (`/login?next=/`, an SSO provider)."""
    if answer.status_code in ASKS:
        return True
    location = answer.headers.get("location", "")
    return 300 <= answer.status_code < 400 and SIGN_IN.search(location) is not None


def _to(answer: httpx.Response) -> str:
    """Where a redirect points, without its query (it may carry a token)."""
    location = answer.headers.get("location")
    if not location or not 300 <= answer.status_code < 400:
        return ""
    parts = urlsplit(location)
    return f" to {urlunsplit((parts.scheme, parts.netloc, parts.path, '', ''))[:120]}"


@register
class HttpProbe(Probe):
    kind = "http"
    title = "Generic HTTP service (admin UIs, REST stores, dashboards)"
    sends: ClassVar[str] = (
        "`GET` on each path in `settings.paths` (default `/`) without credentials; a 2xx "
        "answer means it answers without credentials, 401/403 (or a redirect to a sign-in "
        "page) means it asks for them, anything else tells nothing. The `Server` header is "
        "recorded as the disclosed version."
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
                answer = await httpbase.get(http, base + path, connected=obs.reachable)
                obs.reachable = True
                server = httpbase.server_header(answer)
                if server:
                    obs.product, _, version = server.partition("/")
                    obs.version = version.split(" ", 1)[0] or None
                    obs.version_public = obs.version is not None
                open_paths.record(path, answer.status_code)
                if not 200 <= answer.status_code < 300 and not asks_for_credentials(answer):
                    unsure.append(f"{path} answered HTTP {answer.status_code}{_to(answer)}")
        if unsure and not open_paths.paths:
            # fail closed: a redirect elsewhere than a sign-in page, a missing path or a
            # server error says nothing of whether the path needs credentials
            raise ProbeError(
                "cannot tell whether credentials are needed: " + "; ".join(unsure),
                connected=True,
            )
        obs.notes.extend(f"cannot tell: {what}" for what in unsure)
        await httpbase.check_tls(target, obs)

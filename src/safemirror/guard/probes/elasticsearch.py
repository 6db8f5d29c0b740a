"""Elasticsearch / OpenSearch over HTTP: `/` and `/_cat/indices` — 200, 401 or 403?"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.probes import httpbase, redirects
from safemirror.guard.probes.base import Probe, ProbeContext
from safemirror.guard.probes.registry import register
from safemirror.guard.spec import Strict, Target

CAT_INDICES = "/_cat/indices?format=json&h=index,docs.count"


class ElasticsearchSettings(Strict):
    try_default_credentials: bool = True
    verify_tls: bool = False  # the guard only reads metadata; verify if you want pinning


def describe_root(obs: Observation, body: Any) -> None:
    """Product and version from the JSON `/` answers (ES 7, ES 8 and OpenSearch shapes)."""
    if not isinstance(body, dict) or not isinstance(body.get("version"), dict):
        return
    version = body["version"]
    obs.version = str(version.get("number")) if version.get("number") else None
    if version.get("distribution") == "opensearch":
        obs.product = "OpenSearch"
    else:
        obs.product = "Elasticsearch"
        if version.get("build_flavor"):
            obs.metadata["build_flavor"] = version["build_flavor"]
    if body.get("cluster_name"):
        obs.metadata["cluster_name"] = body["cluster_name"]


def summarize_indices(obs: Observation, body: Any) -> tuple[int, int]:
    rows = body if isinstance(body, list) else []
    names = [str(r.get("index")) for r in rows if isinstance(r, dict)]
    docs = 0
    for row in rows:
        count = row.get("docs.count") if isinstance(row, dict) else None
        if isinstance(count, str | int) and str(count).isdigit():
            docs += int(count)
    obs.metadata.update(indices=len(names), documents=docs, index_names=sorted(names)[:50])
    return len(names), docs


def realm_product(response: httpx.Response) -> str | None:
    challenge = response.headers.get("www-authenticate", "")
    if "opensearch" in challenge.lower():
        return "OpenSearch"
    if response.headers.get("x-elastic-product") or 'realm="security"' in challenge:
        return "Elasticsearch"
    return None


@register
class ElasticsearchProbe(Probe):
    kind = "elasticsearch"
    title = "Elasticsearch / OpenSearch"
    sends: ClassVar[str] = (
        "`GET /` (cluster name and version) and `GET /_cat/indices?format=json&h=index,"
        "docs.count` (index names and document counts, never documents) without credentials. "
        "If both answer 401 it tries the documented defaults (`elastic:changeme`, "
        "`admin:admin`) on `GET /` only, rate-limited."
    )
    default_port = 9200
    url_address = True
    Settings = ElasticsearchSettings
    default_credentials = (("elastic", "changeme"), ("admin", "admin"))
    example: ClassVar[dict[str, Any]] = {
        "name": "search",
        "kind": "elasticsearch",
        "address": "https://127.0.0.1:9200",
        "holds": ["pii"],
        "expect": {"tls": "required"},
    }

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        settings = target.settings_as(ElasticsearchSettings)
        base = target.endpoint.url or ""
        obs.product = "Elasticsearch/OpenSearch"
        async with httpbase.client(target, verify=settings.verify_tls) as http:
            root = await redirects.follow(http, base + "/")
            obs.reachable = True
            cat = await redirects.follow(http, base + CAT_INDICES, connected=True)
            self._classify(obs, root.answer, cat)
            locked = root.status == 401 and cat.status == 401
            if locked and settings.try_default_credentials:
                await self._try_defaults(target, ctx, http, base, obs)
        await httpbase.check_tls(target, obs)

    def _classify(
        self, obs: Observation, root: httpx.Response, followed: redirects.Followed
    ) -> None:
        """The verdict from ``/`` and ``/_cat/indices`` (their last answers, after the
        redirects followed within the origin)."""
        cat = followed.answer
        if followed.redirected:
            obs.notes.append(f"/_cat/indices redirected: {followed.chain}")
        if root.status_code == 200:
            describe_root(obs, httpbase.json_or_none(root))
            obs.version_public = obs.version is not None
        else:
            obs.product = realm_product(root) or obs.product
        if cat.status_code == 200:
            obs.auth_required = False
            count, docs = summarize_indices(obs, httpbase.json_or_none(cat))
            obs.expose(
                "no-auth", "lists indices without credentials", f"{count} indices, {docs} documents"
            )
        elif cat.status_code == 403:
            obs.auth_required = False
            obs.expose(
                "anonymous-limited",
                "anonymous requests are accepted (403 from the anonymous role on /_cat/indices)",
            )
        elif cat.status_code == 401:
            obs.auth_required = True
            if root.status_code == 200:
                obs.expose("anonymous-limited", "answers / without credentials")
        elif followed.signs_in:  # a sign-in proxy in front (oauth2-proxy, an SSO gateway)
            obs.auth_required = True
        else:
            said = f" ({followed.describe()})" if followed.redirected else ""
            raise ProbeError(
                f"unexpected HTTP {cat.status_code} from /_cat/indices{said}; "
                "is this Elasticsearch/OpenSearch?",
                connected=True,
            )

    async def _try_defaults(
        self,
        target: Target,
        ctx: ProbeContext,
        http: httpx.AsyncClient,
        base: str,
        obs: Observation,
    ) -> None:
        for user, password in self.default_credentials:
            async with ctx.limiter.attempt(target.endpoint.host):
                answer = await httpbase.get(http, base + "/", auth=(user, password), connected=True)
            if answer.status_code == 200:
                describe_root(obs, httpbase.json_or_none(answer))
                obs.expose(
                    "default-credentials",
                    f"accepts user {user!r} with its well-known default password",
                )
                return

"""HTTP kinds: Elasticsearch / OpenSearch (protocol-accurate fake: ES 7, ES 8, OpenSearch;
200 / 401 / 403), safemirror's own server (FastAPI stand-in) and generic HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from safemirror.guard.model import Severity, State
from tests.guard.guard_fakes import FakeSearch, HttpThread, SafemirrorStandin
from tests.guard.guard_support import checks, probe

FLAVORS = [
    ("es7", "Elasticsearch", "7.17.18"),
    ("es8", "Elasticsearch", "8.12.2"),
    ("opensearch", "OpenSearch", "2.11.1"),
]


@pytest.fixture
def search(request: pytest.FixtureRequest) -> Iterator[FakeSearch]:
    fake = FakeSearch(*request.param)
    yield fake
    fake.stop()


def es_entry(fake: FakeSearch, holds: str = "pii") -> dict[str, object]:
    return {"name": "search", "kind": "elasticsearch", "address": fake.url, "holds": [holds]}


@pytest.mark.parametrize(("flavor", "product", "version"), FLAVORS, ids=[f[0] for f in FLAVORS])
def test_open_cluster_lists_indices_without_credentials(
    flavor: str, product: str, version: str
) -> None:
    fake = FakeSearch(flavor, "open")
    try:
        result = probe(es_entry(fake))
    finally:
        fake.stop()
    assert result.state is State.EXPOSED
    top = result.findings[0]
    assert top.check == "no-auth" and top.severity is Severity.CRITICAL
    assert top.detail == "lists indices without credentials (2 indices, 8400000 documents)"
    obs = result.observation
    assert (obs.product, obs.version, obs.version_public) == (product, version, True)
    assert obs.metadata["index_names"] == ["devices", "users"]
    assert [p for p, _ in fake.requests] == ["/", "/_cat/indices?format=json&h=index,docs.count"]
    assert all(auth is None for _, auth in fake.requests)


@pytest.mark.parametrize(("flavor", "product", "version"), FLAVORS, ids=[f[0] for f in FLAVORS])
def test_secured_cluster_answers_401(flavor: str, product: str, version: str) -> None:
    fake = FakeSearch(flavor, "auth")
    try:
        result = probe(es_entry(fake))
    finally:
        fake.stop()
    assert result.state is State.SECURE and result.findings == []
    obs = result.observation
    assert obs.auth_required is True and obs.product == product and obs.version is None
    tried = [auth for _, auth in fake.requests if auth]
    assert len(tried) == 2  # elastic:changeme, admin:admin — the documented list, once each


@pytest.mark.parametrize("flavor", ["es8", "opensearch"])
def test_anonymous_role_gets_403(flavor: str) -> None:
    fake = FakeSearch(flavor, "anonymous")
    try:
        result = probe(es_entry(fake))
    finally:
        fake.stop()
    assert checks(result) == {"anonymous-limited", "version-disclosed"}
    assert result.state is State.DRIFT
    assert result.findings[0].severity is Severity.HIGH
    assert "403 from the anonymous role" in result.findings[0].detail


def test_anonymous_role_without_any_privilege() -> None:
    fake = FakeSearch("es7", "denied")
    try:
        result = probe(es_entry(fake, holds="internal"))
    finally:
        fake.stop()
    assert checks(result) == {"anonymous-limited"}
    assert result.findings[0].severity is Severity.MEDIUM


def test_opensearch_demo_admin_password_is_found() -> None:
    fake = FakeSearch("opensearch", "auth", accept=("admin", "admin"))
    try:
        result = probe(es_entry(fake))
    finally:
        fake.stop()
    assert result.state is State.EXPOSED
    top = result.findings[0]
    assert top.check == "default-credentials" and "'admin'" in top.detail
    assert result.observation.version == "2.11.1"


def test_default_credentials_can_be_switched_off() -> None:
    fake = FakeSearch("opensearch", "auth", accept=("admin", "admin"))
    try:
        entry = {**es_entry(fake), "settings": {"try_default_credentials": False}}
        result = probe(entry)
    finally:
        fake.stop()
    assert result.state is State.SECURE
    assert all(auth is None for _, auth in fake.requests)


def test_not_elasticsearch_is_reported() -> None:
    fake = FakeSearch("es7", "open")
    try:
        result = probe({"name": "x", "kind": "elasticsearch", "address": fake.url + "/nowhere"})
    finally:
        fake.stop()
    assert result.state is State.UNREACHABLE
    assert "unexpected HTTP 404" in result.findings[0].detail


# --- safemirror's own server ---------------------------------------------------------------


def test_safemirror_server_answering_without_a_key_is_critical(tmp_path: Path) -> None:
    standin = SafemirrorStandin(tmp_path / "locked", open_=True)
    try:
        result = probe(
            {"name": "api", "kind": "safemirror", "address": standin.url, "holds": ["pii"]}
        )
    finally:
        standin.stop()
    assert result.state is State.EXPOSED
    top = result.findings[0]
    assert top.severity is Severity.CRITICAL
    assert top.detail == "answers without a key on /api/metrics, /api/sql"
    assert result.observation.version == "0.1.0"


def test_safemirror_server_with_keys_is_secure(tmp_path: Path) -> None:
    standin = SafemirrorStandin(tmp_path / "locked", open_=False)
    try:
        result = probe(
            {
                "name": "api",
                "kind": "safemirror",
                "address": standin.url,
                "holds": ["pii"],
                "expect": {"listen": "loopback"},
            }
        )
    finally:
        standin.stop()
    assert checks(result) == {"version-disclosed"} and result.state is State.SECURE
    assert result.observation.metadata["status"] == {"/api/metrics": 401, "/api/sql": 401}


def test_a_safemirror_target_where_no_path_asks_for_a_key_is_not_secure() -> None:
    """Another service on the port (404 everywhere) never asked for a key: that is not
    safemirror's server locked down, and the probe says it cannot tell."""
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()

        do_POST = do_GET

    server = HttpThread(Handler)
    try:
        result = probe({"name": "api", "kind": "safemirror", "address": server.url})
    finally:
        server.stop()
    assert result.state is State.UNREACHABLE
    assert result.observation.error == (
        "cannot tell whether a key is needed: /api/metrics answered HTTP 404; "
        "POST /api/sql answered HTTP 404"
    )


# --- generic HTTP ----------------------------------------------------------------------------


def test_generic_http_open_and_protected() -> None:
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        server_version = "CouchDB/3.3.3"
        sys_version = ""

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            status = 200 if self.path == "/_all_dbs" else 401
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

    server = HttpThread(Handler)
    try:
        exposed = probe(
            {
                "name": "couch",
                "kind": "http",
                "address": server.url,
                "settings": {"paths": ["/_all_dbs", "/_users"]},
            }
        )
        protected = probe(
            {
                "name": "couch",
                "kind": "http",
                "address": server.url,
                "settings": {"paths": ["/_users"]},
            }
        )
    finally:
        server.stop()
    assert exposed.state is State.EXPOSED
    assert exposed.findings[0].detail == "answers without credentials on /_all_dbs"
    assert (exposed.observation.product, exposed.observation.version) == ("CouchDB", "3.3.3")
    assert protected.state is State.SECURE


@pytest.mark.parametrize(
    ("status", "location", "state", "said"),
    [
        (
            302,
            "/app/home?token=abc",
            State.UNREACHABLE,
            "/ → /app/home answered HTTP 302 to /app/home (a redirect loop)",
        ),
        (301, "https://ui.example/", State.UNREACHABLE, "HTTP 301 to https://ui.example/"),
        (404, None, State.UNREACHABLE, "/ answered HTTP 404"),
        (503, None, State.UNREACHABLE, "/ answered HTTP 503"),
        (302, "/login?next=%2F", State.SECURE, None),
        (303, "https://sso.example/oidc/authorize?client=x", State.SECURE, None),
    ],
)
def test_generic_http_says_secure_only_when_asked_for_credentials(
    status: int, location: str | None, state: State, said: str | None
) -> None:
    """A redirect that leads nowhere that tells (a loop, another origin), a missing path
    or a failing server says nothing: only 401/403 or a redirect to a sign-in page is
    secure."""
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(status)
            if location:
                self.send_header("location", location)
            self.send_header("content-length", "0")
            self.end_headers()

    server = HttpThread(Handler)
    try:
        result = probe({"name": "ui", "kind": "http", "address": server.url, "holds": ["pii"]})
    finally:
        server.stop()
    assert result.state is state
    if said is not None:
        error = result.observation.error or ""
        assert error.startswith("cannot tell whether credentials are needed") and said in error
        assert "token" not in error


def test_an_endless_answer_is_cut_not_read_into_memory() -> None:
    """A path that answers 200 and then streams without end: the probe reads a bounded
    prefix (the status is what counts), reports the path open and hangs up, instead of
    holding gigabytes until its time runs out."""
    sent = [0]

    class Endless(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            chunk = b"[" * (1 << 20)
            with contextlib.suppress(OSError):
                while sent[0] < 1 << 32:
                    self.wfile.write(chunk)
                    sent[0] += len(chunk)

    server = HttpThread(Endless)
    try:
        result = probe({"name": "admin", "kind": "http", "address": server.url, "timeout": 2})
    finally:
        server.stop()
    assert result.observation.error is None, result.observation.error
    assert result.state is State.EXPOSED and "no-auth" in checks(result)
    assert sent[0] < 64 << 20  # what it wrote before the probe hung up (socket buffers)

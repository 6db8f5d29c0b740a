"""Redirects: admin UIs send `/` to their start page or through it to a sign-in page. The
probes follow them within the target's origin, to the answer that tells, and never to
another host."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from safemirror.guard.model import State
from safemirror.guard.probes.redirects import _signs_in
from safemirror.guard.scan import TargetResult
from tests.guard.guard_fakes import HttpThread
from tests.guard.guard_support import probe

#: path -> (status, Location or None); any other path answers 404
Routes = dict[str, tuple[int, str | None]]


class Site(HttpThread):
    """Answers each path from ``routes``; ``asked`` lists the paths asked (with queries)."""

    def __init__(self, routes: Routes) -> None:
        asked: list[str] = []
        self.asked = asked

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                asked.append(self.path)
                status, location = routes.get(self.path.split("?", 1)[0], (404, None))
                self.send_response(status)
                if location:
                    self.send_header("location", location)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _answer

        super().__init__(Handler)


@pytest.fixture
def site() -> Iterator[list[Site]]:
    started: list[Site] = []
    yield started
    for server in started:
        server.stop()


def scan_site(started: list[Site], routes: Routes, **entry: object) -> tuple[Site, TargetResult]:
    server = Site(routes)
    started.append(server)
    target = {"name": "ui", "kind": "http", "address": server.url, "holds": ["pii"], **entry}
    return server, probe(target)


def test_an_open_dashboard_that_redirects_to_its_start_page_is_exposed(site: list[Site]) -> None:
    """`/` → `/app/home?session=…` → 200: it answers without credentials; the finding
    names where, without the query (it may carry a token)."""
    routes: Routes = {"/": (302, "/app/home?session=s3cr3t"), "/app/home": (200, None)}
    server, result = scan_site(site, routes)
    assert result.state is State.EXPOSED, result.observation.error
    top = result.findings[0]
    assert top.check == "no-auth"
    assert top.detail == "answers without credentials on / (redirected to /app/home)"
    assert result.observation.metadata["redirects"] == {"/": "/ → /app/home"}
    assert "s3cr3t" not in repr(result.to_dict())
    assert server.asked == ["/", "/app/home?session=s3cr3t"]


def test_a_protected_dashboard_redirecting_through_its_start_page_is_secure(
    site: list[Site],
) -> None:
    """`/` → `/ui/` → `/login?next=…`: it asks for credentials; the sign-in page itself
    (which answers 200) is never asked."""
    routes: Routes = {
        "/": (301, "/ui/"),
        "/ui/": (302, "/login?next=%2Fui%2F&token=abc"),
        "/login": (200, None),
    }
    server, result = scan_site(site, routes)
    assert result.state is State.SECURE, result.observation.error
    assert result.observation.auth_required is True
    assert "/ asks for credentials: / → /ui/ → /login" in result.observation.notes
    assert server.asked == ["/", "/ui/"]
    assert "abc" not in repr(result.to_dict())


def test_a_start_page_that_asks_with_401_is_secure(site: list[Site]) -> None:
    routes: Routes = {"/": (302, "/dashboard/"), "/dashboard/": (401, None)}
    _, result = scan_site(site, routes)
    assert result.state is State.SECURE, result.observation.error


@pytest.mark.parametrize(
    ("routes", "said"),
    [
        ({"/": (302, "/a"), "/a": (302, "/")}, "/ → /a answered HTTP 302 to / (a redirect loop)"),
        (
            {"/": (302, "/1"), **{f"/{n}": (302, f"/{n + 1}") for n in range(1, 9)}},
            "/ → /1 → /2 → /3 → /4 → /5 answered HTTP 302 to /6 (more than 5 redirects)",
        ),
        ({"/": (302, "/app/home")}, "/ → /app/home answered HTTP 404"),
    ],
    ids=["loop", "too-many", "start-page-missing"],
)
def test_a_chain_that_ends_nowhere_is_cannot_tell(
    site: list[Site], routes: Routes, said: str
) -> None:
    _, result = scan_site(site, routes)
    assert result.state is State.UNREACHABLE
    error = result.observation.error or ""
    assert error == f"cannot tell whether credentials are needed: {said}"


def test_a_redirect_to_another_origin_is_never_followed(site: list[Site]) -> None:
    """Another port on the same host is another origin: the guard talks to the target it
    was given only, and says it cannot tell (unless that page is a sign-in page)."""
    other = Site({"/app/home": (200, None)})
    site.append(other)
    server, result = scan_site(site, {"/": (302, f"{other.url}/app/home?x=1")})
    assert result.state is State.UNREACHABLE
    assert result.observation.error == (
        "cannot tell whether credentials are needed: / answered HTTP 302 to "
        f"{other.url}/app/home (another origin: not followed)"
    )
    assert other.asked == [] and server.asked == ["/"]
    sso = f"{other.url}/realms/corp/protocol/openid-connect/auth?client_id=ui"
    _, signed = scan_site(site, {"/": (302, "/ui/"), "/ui/": (302, sso)})
    assert signed.state is State.SECURE, signed.observation.error
    assert other.asked == []


def test_elasticsearch_behind_a_sign_in_proxy_is_secure(site: list[Site]) -> None:
    """oauth2-proxy in front of a cluster: every path redirects to its sign-in page."""
    sign_in = (302, "/oauth2/sign_in?rd=%2F_cat%2Findices")
    _, result = scan_site(site, {"/": sign_in, "/_cat/indices": sign_in}, kind="elasticsearch")
    obs = result.observation
    assert result.state is State.SECURE, obs.error
    assert obs.auth_required is True
    assert "/_cat/indices redirected: /_cat/indices → /oauth2/sign_in" in obs.notes


def test_safemirror_behind_a_sign_in_proxy_is_secure(site: list[Site]) -> None:
    """A sign-in gateway in front of safemirror's server asks for credentials on every
    route, the POST one too."""
    sign_in = (302, "/oauth2/sign_in")
    routes: Routes = {"/api/health": (200, None), "/api/metrics": sign_in, "/api/sql": sign_in}
    server, result = scan_site(site, routes, kind="safemirror")
    assert result.state is State.SECURE, result.observation.error
    assert result.observation.auth_required is True
    assert "/oauth2/sign_in" not in server.asked


def test_a_redirect_s_user_name_and_password_are_never_recorded(site: list[Site]) -> None:
    """A location that carries credentials in its authority (``user:password@host``) is
    named without them, as one that carries a token in its query is."""
    other = Site({"/app": (200, None)})
    site.append(other)
    there = other.url.replace("http://", "http://svc:hunter2@")
    _, result = scan_site(site, {"/": (302, f"{there}/app")})
    assert result.state is State.UNREACHABLE
    assert result.observation.error == (
        "cannot tell whether credentials are needed: / answered HTTP 302 to "
        f"{other.url}/app (another origin: not followed)"
    )
    assert "hunter2" not in repr(result.to_dict())
    assert other.asked == []


@pytest.mark.parametrize(
    ("location", "signs_in"),
    [
        ("/login?next=%2F", True),
        ("/users/sign_in", True),
        ("/Account/LogOn", True),
        ("/oauth2/start?rd=%2F", True),
        ("https://sso.corp.example/", True),
        ("https://id.example/realms/x/protocol/openid-connect/auth", True),
        ("/authors/", False),  # a longer word
        ("/catalog/", False),
        ("https://classo.example/home", False),
        ("/dashboard/", False),
    ],
)
def test_a_sign_in_page_is_told_by_whole_words(location: str, signs_in: bool) -> None:
    """A name that only contains a sign-in word (`authors`, `classo`) is no sign-in page:
    reading it as one would call an open site secure."""
    start = httpx.URL("http://127.0.0.1:8080/")
    assert _signs_in(start.join(location), start) is signs_in

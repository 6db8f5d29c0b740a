"""Following an HTTP answer's redirects within its origin, to the answer that tells.

Admin UIs redirect `/` to their start page (`/app/home`), or through it to a sign-in page
(`/` → `/ui/` → `/login`): the first answer says nothing, the last one does. The guard
follows only within the target's origin (scheme, host, port): it talks to the targets it
was given and to no other host. Locations are kept without their query (it may carry a
token), and without user name and password (a location may carry those too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from safemirror.guard.probes import httpbase

#: Redirects followed at most from one path.
MAX_HOPS = 5
#: Statuses that ask for credentials (or refuse the anonymous client).
ASKS = frozenset({401, 403, 407})
#: Words in a redirect's target (host and path) that name a sign-in page.
#: A sign-in page's name, as a whole word of a path or host name (between characters that
#: are not letters or digits): `/login`, `/users/sign_in`, `/oauth2/start`, `sso.corp`,
#: `/openid-connect/auth`; never part of a longer word (`/authors/`, `classo.example`).
SIGN_IN = re.compile(
    r"(?<![a-z0-9])(?:log[-_]?[io]n|sign[-_]?[io]n|auth|oauth2?|authori[sz]e|authenticate|"
    r"sso|saml2?|oidc|openid|cas|adfs|idp)(?![a-z0-9])",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _bare(url: httpx.URL) -> httpx.URL:
    """``url`` without user name and password, query and fragment."""
    return url.copy_with(userinfo=b"", query=None, fragment=None)


def _signs_in(url: httpx.URL, start: httpx.URL) -> bool:
    """Whether ``url`` names a sign-in page: by its path, and at another origin by its
    host too (``sso.example``); the target's own host name says nothing."""
    named = url.path if _origin(url) == _origin(start) else f"{url.host}{url.path}"
    return SIGN_IN.search(named) is not None


@dataclass
class Followed:
    """Where one path's redirects led."""

    answer: httpx.Response  # the last answer read
    hops: list[str]  # the locations asked, in turn, without queries: ["/", "/ui/"]
    to: str = ""  # a redirect not followed (a sign-in page, another origin, a loop…)
    why: str = ""  # why it was not: "a sign-in page", "another origin", …

    @property
    def status(self) -> int:
        return self.answer.status_code

    @property
    def open(self) -> bool:
        """2xx without credentials."""
        return 200 <= self.status < 300

    @property
    def signs_in(self) -> bool:
        """Sent to a sign-in page (here or at another origin, such as an SSO provider)."""
        return self.why == "a sign-in page"

    @property
    def asks(self) -> bool:
        """Asks for credentials: 401/403/407, or a redirect to a sign-in page."""
        return self.status in ASKS or self.signs_in

    @property
    def redirected(self) -> bool:
        return len(self.hops) > 1 or bool(self.to)

    @property
    def final(self) -> str:
        """The last location asked."""
        return self.hops[-1]

    @property
    def chain(self) -> str:
        """``/ → /ui/ → /login``: every location, the one not followed too."""
        return " → ".join(self.hops + ([self.to] if self.to else []))

    def describe(self) -> str:
        """What the path answered, for a note or a "cannot tell" reason."""
        text = f"{' → '.join(self.hops)} answered HTTP {self.status}"
        if self.to:
            text += f" to {self.to}"
        return f"{text} ({self.why})" if self.why and not self.signs_in else text


def _shown(url: httpx.URL, start: httpx.URL) -> str:
    """A location as recorded: its path within the target's origin, else its origin and
    path; never its query, nor a user name and password."""
    bare = _bare(url)
    if _origin(url) == _origin(start):
        return bare.raw_path.decode("ascii", "replace")[:120] or "/"
    return str(bare)[:120]


async def follow(
    http: httpx.AsyncClient,
    url: str,
    *,
    connected: bool = False,
    method: str = "GET",
    json: Any = None,
) -> Followed:
    """GET ``url`` without credentials and follow its redirects within its origin, at most
    ``MAX_HOPS``; stop at a sign-in page, another origin or a loop. Another ``method``
    (with a ``json`` body) is sent once: its redirect is judged by where it points, never
    followed. Network failures are ``ProbeError``s, as for ``httpbase.get``."""
    start = httpx.URL(url)
    here = start
    answer = await httpbase.get(http, url, connected=connected, method=method, json=json)
    followed = Followed(answer, [_shown(start, start)])
    seen = {str(start.copy_with(fragment=None))}
    while answer.is_redirect:
        try:
            there = here.join(answer.headers["location"])
        except httpx.InvalidURL:
            followed.to, followed.why = "an invalid location", ""
            return followed
        followed.to = _shown(there, start)
        if _signs_in(there, start):
            followed.why = "a sign-in page"
            return followed
        if _origin(there) != _origin(start):
            followed.why = "another origin: not followed"
            return followed
        if str(there.copy_with(fragment=None)) in seen:
            followed.why = "a redirect loop"
            return followed
        if method != "GET":
            followed.why = f"a {method} is not followed"
            return followed
        if len(followed.hops) > MAX_HOPS:
            followed.why = f"more than {MAX_HOPS} redirects"
            return followed
        seen.add(str(there.copy_with(fragment=None)))
        answer = await httpbase.get(http, str(there), connected=True)
        here = there
        followed = Followed(answer, [*followed.hops, followed.to])
    return followed

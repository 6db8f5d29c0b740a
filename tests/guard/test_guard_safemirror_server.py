"""The `safemirror` probe against safemirror's real server (not a stand-in): each route
asked the way the server serves it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from safemirror.guard.model import State
from safemirror.server.app import create_app
from tests.guard.guard_support import probe
from tests.server.conftest import LiveServer, make_project


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    project = make_project(tmp_path_factory.mktemp("guarded"))
    with LiveServer(create_app(project.config)) as live:
        yield live


def test_the_real_server_is_asked_each_route_as_it_serves_it(server: LiveServer) -> None:
    """`/api/sql` is POST only: a GET answers 405, which tells nothing; asked with POST
    and no key it answers 401, like `/api/metrics`."""
    assert httpx.get(server.url + "/api/sql").status_code == 405
    result = probe({"name": "api", "kind": "safemirror", "address": server.url, "holds": ["pii"]})
    assert result.state is State.SECURE, result.observation.error
    assert result.observation.metadata["status"] == {"/api/metrics": 401, "/api/sql": 401}
    assert result.observation.notes == []


def test_the_sql_route_alone_tells(server: LiveServer) -> None:
    result = probe(
        {
            "name": "api",
            "kind": "safemirror",
            "address": server.url,
            "settings": {"protected_paths": ["/api/sql"]},
        }
    )
    assert result.state is State.SECURE, result.observation.error
    assert result.observation.auth_required is True


def test_a_route_that_does_not_serve_get_is_named_in_a_note(server: LiveServer) -> None:
    """A declared path the server serves with another method only (DELETE
    `/api/keys/{id}`, never sent): its 405 does not count as asking for a key, and is
    noted, beside a route that does ask."""
    result = probe(
        {
            "name": "api",
            "kind": "safemirror",
            "address": server.url,
            "settings": {"protected_paths": ["/api/metrics", "/api/keys/abc"]},
        }
    )
    assert result.state is State.SECURE, result.observation.error
    assert result.observation.notes == [
        "cannot tell: /api/keys/abc answered HTTP 405 (allows DELETE)"
    ]
    alone = probe(
        {
            "name": "api",
            "kind": "safemirror",
            "address": server.url,
            "settings": {"protected_paths": ["/api/keys/abc"]},
        }
    )
    assert alone.state is State.UNREACHABLE
    assert alone.observation.error == (
        "cannot tell whether a key is needed: /api/keys/abc answered HTTP 405 (allows DELETE)"
    )

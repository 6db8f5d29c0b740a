"""Request limits: bodies too large for any route, and 422 answers that repeat no values."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from fastapi.testclient import TestClient

from safemirror.server.limits import MAX_BODY_BYTES
from tests.server.conftest import LiveServer, Project


def test_a_body_declared_too_large_is_refused_before_authentication(
    client: TestClient, project: Project
) -> None:
    body = b'{"sql": "' + b"x" * MAX_BODY_BYTES + b'"}'
    for headers in ({}, project.headers("analyst")):
        response = client.post(
            "/api/sql", content=body, headers={**headers, "content-type": "application/json"}
        )
        assert response.status_code == 413, response.text[:200]
        assert "larger than 1 MB" in response.json()["detail"]
        assert response.headers["x-content-type-options"] == "nosniff"
    response = client.post("/login", content=b"key=" + b"x" * MAX_BODY_BYTES)
    assert response.status_code == 413


def test_a_streamed_body_stops_at_the_limit(live: LiveServer, project: Project) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"sql": "'
        for _ in range(64):  # 4 MB, sent without a Content-Length
            yield b"x" * (64 << 10)
        yield b'"}'

    for headers in ({}, project.headers("analyst")):
        response = httpx.post(
            f"{live.url}/api/sql",
            content=chunks(),
            headers={**headers, "content-type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 413, response.text[:200]
    ok = httpx.post(
        f"{live.url}/api/sql",
        json={"sql": "SELECT 1 AS n"},
        headers=project.headers("analyst"),
        timeout=30,
    )
    assert ok.json()["rows"] == [[1]]


def test_invalid_requests_are_422_without_their_values(
    client: TestClient, project: Project
) -> None:
    headers = {**project.headers("analyst"), "content-type": "application/json"}
    for body in (b'{"sql": NaN}', b'{"sql": "SELECT \'\\ud800\'"}', b'{"sql": 5}'):
        response = client.post("/api/sql", content=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        errors = response.json()["detail"]
        assert errors and all(set(e) == {"type", "loc", "msg"} for e in errors), errors
    long = client.post("/api/sql", json={"sql": "SELECT 1 " + "-" * 30_000}, headers=headers)
    assert long.status_code == 422 and len(long.content) < 1000

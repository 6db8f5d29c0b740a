"""Metric endpoints, key management over the API, the audit route and mirror replacement."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from safemirror.errors import TransientError
from safemirror.metrics import MetricQuery, all_metrics, compute, get_metric
from safemirror.metrics.mirror import MirrorPool
from safemirror.server.app import create_app
from tests.metrics.world import Production, write_mirror
from tests.server.conftest import Project, make_project


def test_metric_list_describes_every_metric(client: TestClient, project: Project) -> None:
    listed = client.get("/api/metrics", headers=project.headers("viewer")).json()
    assert {m["name"] for m in listed} == {m.name for m in all_metrics()}
    for item in listed:
        assert item["grains"] and item["columns"] and item["description"]


@pytest.mark.parametrize("name", [m.name for m in all_metrics()])
def test_endpoint_equals_suppressed_computation(
    app: FastAPI, client: TestClient, project: Project, name: str
) -> None:
    metric = get_metric(name)
    by = next(iter(metric.dimensions), None)
    params = {"from": "2024-01-01", "to": "2024-12-31", "grain": "month"}
    if by:
        params["by"] = by
    response = client.get(f"/api/metrics/{name}", params=params, headers=project.headers("viewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    with app.state.sm.pool.cursor() as con:  # one process: share the server's database
        expected = compute(
            con, metric, MetricQuery(date(2024, 1, 1), date(2024, 12, 31), "month", by), 11
        ).to_dict()
    assert body == expected
    assert response.content == JSONResponse(expected).body  # byte for byte
    assert body["min_cell"] == 11 and body["suppressed_cells"] > 0
    for row in body["rows"]:
        for column in row["suppressed"]:
            assert row[column] is None


def test_defaults_cover_the_last_year_of_data(client: TestClient, project: Project) -> None:
    body = client.get("/api/metrics/active_devices", headers=project.headers("viewer")).json()
    assert body["to"] == "2024-12-31" and body["from"] == "2024-01-01"
    assert body["grain"] == "month" and len(body["rows"]) == 12


def test_a_range_given_only_its_end_starts_twelve_months_before_it(
    client: TestClient, project: Project
) -> None:
    url = "/api/metrics/active_devices?to=2024-03-15"
    response = client.get(url, headers=project.headers("viewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"]) == ("2023-04-01", "2024-03-15")
    assert len(body["rows"]) == 12


@pytest.mark.parametrize(
    ("query", "status", "phrase"),
    [
        ("/api/metrics/nope", 404, "unknown metric"),
        ("/api/metrics/user_growth?by=model", 400, "cannot be broken down by"),
        ("/api/metrics/user_growth?grain=year", 422, ""),
        ("/api/metrics/user_growth?from=2024-05-01&to=2024-01-01", 400, "before it starts"),
        ("/api/metrics/user_growth?from=2000-01-01&to=2024-01-01&grain=day", 400, "at most"),
        ("/api/metrics/user_growth?from=yesterday", 422, ""),
        ("/api/metrics/user_growth?from=0001-01-01&to=9999-12-31", 400, "must end by"),
    ],
)
def test_bad_metric_requests(
    client: TestClient, project: Project, query: str, status: int, phrase: str
) -> None:
    response = client.get(query, headers=project.headers("viewer"))
    assert response.status_code == status, response.text
    assert phrase in str(response.json()["detail"])


def test_metric_reads_are_audited(client: TestClient, project: Project) -> None:
    from safemirror.audit import AuditLog

    client.get("/api/metrics/user_growth?by=country", headers=project.headers("viewer"))
    entry = list(AuditLog(project.config.audit_log).entries())[-1]
    assert entry.kind == "server.metric" and entry.data["metric"] == "user_growth"
    assert entry.data["who"].startswith("viewer-key") and entry.data["by"] == "country"


def test_keys_over_the_api(client: TestClient, project: Project) -> None:
    admin = project.headers("admin")
    created = client.post(
        "/api/keys", json={"name": "robot", "role": "viewer", "expires": "30d"}, headers=admin
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("smk_") and created.json()["expires_at"]
    listed = client.get("/api/keys", headers=admin).json()
    assert "robot" in {k["name"] for k in listed}
    assert all("hash" not in k and "key" not in k for k in listed)
    robot = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/me", headers=robot).json()["role"] == "viewer"
    revoked = client.delete(f"/api/keys/{created.json()['id']}", headers=admin)
    assert revoked.json()["status"] == "revoked"
    assert client.get("/api/me", headers=robot).status_code == 401
    assert (
        client.post("/api/keys", json={"name": "x", "role": "root"}, headers=admin).status_code
        == 422
    )
    audit = client.get("/api/audit?kind=keys.create", headers=admin).json()
    assert audit["intact"] is True and audit["entries"][-1]["data"]["name"] == "robot"


def test_a_replaced_mirror_is_picked_up(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    client = TestClient(create_app(project.config), base_url="http://127.0.0.1")
    headers = project.headers("analyst")

    def users() -> int:
        response = client.post(
            "/api/sql", json={"sql": "SELECT count(*) FROM users"}, headers=headers
        )
        return int(response.json()["rows"][0][0])

    before = users()
    fresh = write_mirror(Production(seed=99, n_users=150), tmp_path / "next.duckdb")
    os.replace(fresh, project.config.mirror)  # what a sync does
    after = users()
    assert before != after and after < 150


def test_missing_mirror_is_503(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.config.mirror.unlink()
    client = TestClient(create_app(project.config), base_url="http://127.0.0.1")
    response = client.get("/api/metrics/user_growth", headers=project.headers("viewer"))
    assert response.status_code == 503 and "sync" in response.json()["hint"]


def test_a_mirror_with_damaged_blocks_is_a_clear_audited_503(tmp_path: Path) -> None:
    from safemirror.audit import AuditLog

    project = make_project(tmp_path)
    data = bytearray(project.config.mirror.read_bytes())
    for offset in range(3 * 262144, len(data) - 4096, 4096):  # past the headers
        data[offset + 100 : offset + 200] = os.urandom(100)
    project.config.mirror.write_bytes(bytes(data))
    client = TestClient(create_app(project.config), base_url="http://127.0.0.1")
    url = "/api/metrics/active_devices?from=2024-01-01&to=2024-06-30&by=model"
    response = client.get(url, headers=project.headers("viewer"))
    assert response.status_code == 503, response.text
    assert "cannot be read" in response.json()["detail"]
    assert "sync --full" in response.json()["hint"]
    entry = list(AuditLog(project.config.audit_log).entries())[-1]
    assert entry.kind == "server.metric" and "cannot be read" in entry.data["error"]


def test_pool_never_writes(tmp_path: Path) -> None:
    path = write_mirror(Production(n_users=50), tmp_path / "m.duckdb")
    pool = MirrorPool(path)
    with pool.cursor() as cur, pytest.raises(duckdb.Error):
        cur.execute("CREATE TABLE x (i INTEGER)")
    pool.close()


def test_a_query_of_the_pool_out_of_memory_is_transient(tmp_path: Path) -> None:
    path = write_mirror(Production(n_users=50), tmp_path / "m.duckdb")
    pool = MirrorPool(path, memory_limit="32MB")
    sql = "SELECT len(list(range)) FROM range(100000000)"
    with pytest.raises(TransientError, match="out of memory"):
        pool.run(lambda cur: cur.execute(sql).fetchall(), 30)
    assert pool.run(lambda cur: cur.execute("SELECT 1").fetchall(), 30) == [(1,)]
    pool.close()


def test_metric_results_are_cached_per_mirror_file(tmp_path: Path) -> None:
    from safemirror.audit import AuditLog

    project = make_project(tmp_path)
    client = TestClient(create_app(project.config), base_url="http://127.0.0.1")
    url = "/api/metrics/user_growth?from=2024-01-01&to=2024-12-31"
    first = client.get(url, headers=project.headers("viewer")).json()
    again = client.get(url, headers=project.headers("viewer")).json()
    assert first == again
    flags = [
        e.data["cached"]
        for e in AuditLog(project.config.audit_log).entries()
        if e.kind == "server.metric"
    ]
    assert flags == [False, True]  # both audited; the second one was not recomputed
    fresh = write_mirror(Production(seed=5, n_users=200), tmp_path / "next.duckdb")
    os.replace(fresh, project.config.mirror)
    after = client.get(url, headers=project.headers("viewer")).json()
    assert after != first


def test_cache_computes_once_for_concurrent_callers() -> None:
    import threading
    import time

    from safemirror.server.cache import ResultCache

    cache, calls = ResultCache(4), []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results: list[tuple[object, bool]] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and {r[0] for r in results} == {42}
    assert sorted(r[1] for r in results) == [False] + [True] * 7
    for key in range(10):
        cache.get_or_compute(key, lambda: 0)
    assert len(cache._data) == 4


def test_refused_metric_requests_are_audited(client: TestClient, project: Project) -> None:
    from safemirror.audit import AuditLog

    client.get("/api/metrics/user_growth?by=model", headers=project.headers("viewer"))
    entry = list(AuditLog(project.config.audit_log).entries())[-1]
    assert entry.kind == "server.metric" and "cannot be broken down" in entry.data["error"]


def test_quick_metric_requests_are_answered_without_a_worker_when_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from safemirror.audit import AuditLog
    from safemirror.server import api

    threads: list[str] = []
    real = api._metric

    def spy(*args: object) -> bytes:
        threads.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "_metric", spy)
    project = make_project(tmp_path)
    app = create_app(project.config, cache_size=0)
    client = TestClient(app, base_url="http://127.0.0.1")
    url = "/api/metrics/user_growth?from=2024-01-01&to=2024-12-31"
    took = app.state.sm.took

    def get(last_took: float | None = None) -> tuple[bytes, str]:
        if last_took is not None:
            took.update(dict.fromkeys(took, last_took))
        body = client.get(url, headers=project.headers("viewer")).content
        return body, threads[-1]

    first, where = get()
    assert where.startswith("metric")  # how long it takes is not known yet: a worker
    quick, where = get(last_took=0.001)
    assert quick == first and not where.startswith("metric")  # on the event loop
    slow, where = get(last_took=api.QUICK_S)
    assert slow == first and where.startswith("metric")
    app.state.sm.pool._sessions += 1  # a query still running (its client gone, say)
    waiting, where = get(last_took=0.001)
    assert waiting == first and where.startswith("metric")
    app.state.sm.pool._sessions -= 1
    app.state.sm.in_flight += 1  # another request is being answered: never block the loop
    busy, where = get(last_took=0.001)
    assert busy == first and where.startswith("metric")
    entries = [e for e in AuditLog(project.config.audit_log).entries() if e.kind == "server.metric"]
    assert len(entries) == 5  # every request audited, wherever it ran


def test_a_metric_the_mirror_cannot_compute_is_a_clear_400(tmp_path: Path) -> None:
    """A mirror without a table the metric reads (another schema, or a policy that skipped
    it): the client is told what is missing, not handed an internal error."""
    project = make_project(tmp_path)
    con = duckdb.connect(str(project.config.mirror))
    con.execute("DROP TABLE connection_events")
    con.close()
    with TestClient(create_app(project.config), base_url="http://127.0.0.1") as client:
        response = client.get(
            "/api/metrics/failed_connection_rate?from=2024-01-01&to=2024-03-31",
            headers=project.headers("viewer"),
        )
        assert response.status_code == 400, response.text
        assert "connection_events" in response.json()["detail"]
        assert client.get("/api/metrics/user_growth", headers=project.headers("viewer")).is_success


def test_no_metric_is_a_server_error_on_a_mirror_of_another_schema(tmp_path: Path) -> None:
    """Every metric, whatever its own way of reading the mirror, answers 400 naming what
    is missing when the mirror holds other tables."""
    project = make_project(tmp_path)
    con = duckdb.connect(str(project.config.mirror))
    for table in ("users", "devices", "connection_events"):
        con.execute(f"DROP TABLE {table}")
    con.close()
    with TestClient(create_app(project.config), base_url="http://127.0.0.1") as client:
        for metric in all_metrics():
            response = client.get(
                f"/api/metrics/{metric.name}?from=2024-01-01&to=2024-03-31",
                headers=project.headers("viewer"),
            )
            assert response.status_code == 400, (metric.name, response.text)
            assert "does not exist" in response.json()["detail"], metric.name


def test_a_damaged_audit_log_is_reported_not_a_server_error(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    client = TestClient(create_app(project.config), base_url="http://127.0.0.1")
    admin = project.headers("admin")
    assert client.get("/api/audit", headers=admin).json()["intact"] is True
    with project.config.audit_log.open("ab") as handle:
        handle.write(b"\xff\xfe not an entry\n")
    response = client.get("/api/audit", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intact"] is False and "not a valid audit entry" in body["problem"]
    assert body["entries"]  # the entries before the damage
    # a request that must be audited cannot be: refused as a service unavailable until
    # the log is restored, never answered unaudited
    response = client.get("/api/metrics/user_growth", headers=project.headers("viewer"))
    assert response.status_code == 503, response.text
    assert "not a valid entry" in response.json()["detail"]
    assert "audit verify" in response.json()["hint"]

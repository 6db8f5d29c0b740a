"""Analysts' SQL runs in a worker process: what it does to memory, a client that goes away
and a query deaf to its deadline stay there, and metrics are answered meanwhile."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from safemirror.audit import AuditLog
from safemirror.config import load_config
from safemirror.server.app import create_app
from safemirror.server.cli import create_key
from safemirror.server.sqlchild import WorkerSettings
from safemirror.server.sqlworker import SqlWorker
from tests.conftest import free_port
from tests.metrics.world import Production, project_yaml, write_mirror
from tests.server.conftest import LiveServer, Project, make_project
from tests.server.test_cli import start, stop, wait_for

BOMBS = (
    "SELECT length(repeat('x', 2500000000)) AS n",  # one 2.5 GB string: out of memory
    "SELECT len(list_resize([1], 150000000)) AS n",  # works, and its address space stays
    "SELECT len(range(300000000)) AS n",
)
METRIC = "/api/metrics/failed_connection_rate?grain=day&by=firmware&from=2025-01-01&to=2025-12-31"


def data_segment(pid: int) -> int:
    """A process's ``VmData`` in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln for ln in status.splitlines() if ln.startswith("VmData:")).split()[1]) << 10


def test_memory_bombs_leave_the_server_whole(tmp_path: Path) -> None:
    mirror = write_mirror(Production(n_users=200), tmp_path / "mirror.duckdb")
    project = project_yaml(tmp_path, mirror, "sqlite:///unused.db", memory_limit="512MB")
    config = load_config(project)
    analyst = {"Authorization": f"Bearer {create_key(config, 'analyst', 'ana')[1]}"}
    viewer = {"Authorization": f"Bearer {create_key(config, 'viewer', 'vi')[1]}"}
    port = free_port()
    proc = start(["serve", "--port", str(port), "-c", str(project)])
    try:
        wait_for(port, proc)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + METRIC, headers=viewer, timeout=60).status_code == 200
        before = data_segment(proc.pid)
        workers = set()
        for sql in BOMBS:
            workers |= {w.pid for w in psutil.Process(proc.pid).children()}
            response = httpx.post(base + "/api/sql", json={"sql": sql}, headers=analyst, timeout=60)
            assert response.status_code in (200, 400), (sql, response.text)
            if response.status_code == 400:
                assert "out of memory" in response.json()["detail"].lower(), response.text
        grown = data_segment(proc.pid) - before
        assert grown < 256 << 20, f"the server kept {grown >> 20} MB of the queries' memory"
        response = httpx.get(
            base + METRIC.replace("2025-01-01", "2025-01-02"), headers=viewer, timeout=60
        )
        assert response.status_code == 200, response.text
        response = httpx.post(
            base + "/api/sql", json={"sql": "SELECT 42 AS n"}, headers=analyst, timeout=30
        )
        assert response.json()["rows"] == [[42]]
        assert len(workers) >= 3, "each bomb's worker was replaced"
        deadline = time.monotonic() + 30  # a retired worker leaves once its answer is out
        while (now := {w.pid for w in psutil.Process(proc.pid).children()}) & workers:
            assert time.monotonic() < deadline, "a bomb's worker stayed"
            time.sleep(0.1)
    finally:
        stop(proc)
    assert not [pid for pid in workers | now if psutil.pid_exists(pid) and not zombie(pid)]


def test_a_query_sent_as_a_worker_retires_goes_to_its_successor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker whose memory grew retires with its answer. A client may send its next query
    the moment it reads that answer: the query must go to the new worker, not to the one
    retiring (it would run with the memory the worker was retired for). The replacement is
    made slow here, so that an answer handed on before it shows."""
    project = make_project(tmp_path)
    settings = WorkerSettings(project.config.mirror, project.config.policy, "256MB")
    replace = SqlWorker._replace

    def slow_replace(self: SqlWorker, child: Any) -> None:
        time.sleep(0.5)
        replace(self, child)

    monkeypatch.setattr(SqlWorker, "_replace", slow_replace)
    worker = SqlWorker(settings)
    try:
        grower, _, future = worker.submit(BOMBS[1], 10, 60.0)
        assert future.result(60).retire, "the query did not make its worker retire"
        successor, _, future = worker.submit("SELECT 7 AS n", 10, 60.0)
        assert successor is not grower
        assert future.result(60).error is None
    finally:
        worker.close()


def zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture(scope="module")
def slow_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("slow"), query_timeout_s=30.0)


def last_sql_entry(project: Project) -> dict[str, object]:
    entries = [e for e in AuditLog(project.config.audit_log).entries() if e.kind == "server.sql"]
    return entries[-1].data if entries else {}


def test_a_query_stops_when_its_client_goes_away(slow_project: Project) -> None:
    bomb = "SELECT count(*) FROM range(1000000000000) a"
    app = create_app(slow_project.config)
    with LiveServer(app) as live:
        for _ in range(4):  # more than the worker runs at once
            with pytest.raises(httpx.TimeoutException):
                httpx.post(
                    f"{live.url}/api/sql",
                    json={"sql": bomb},
                    headers=slow_project.headers("analyst"),
                    timeout=0.5,
                )
        deadline = time.monotonic() + 5
        while last_sql_entry(slow_project).get("sql") != bomb:
            assert time.monotonic() < deadline, "the query ran on after its client left"
            time.sleep(0.1)
        entry = last_sql_entry(slow_project)
        assert entry["error"] == "the client went away; the query was stopped"
        response = httpx.post(
            f"{live.url}/api/sql",
            json={"sql": "SELECT 7 AS n"},
            headers=slow_project.headers("analyst"),
            timeout=10,
        )
        assert response.json()["rows"] == [[7]]
    app.state.sm.sql.close()


def test_metrics_are_answered_while_sql_is_busy(slow_project: Project) -> None:
    app = create_app(slow_project.config)
    with LiveServer(app) as live:
        url, headers = f"{live.url}/api/sql", slow_project.headers("analyst")

        def bomb() -> None:
            sql = "SELECT count(*) FROM range(2000000000) a, range(10) b"
            httpx.post(url, json={"sql": sql}, headers=headers, timeout=60)

        threads = [threading.Thread(target=bomb, daemon=True) for _ in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        t0 = time.monotonic()
        response = httpx.get(
            live.url + "/api/metrics/user_growth?grain=week",
            headers=slow_project.headers("viewer"),
            timeout=60,
        )
        assert response.status_code == 200 and time.monotonic() - t0 < 5
        app.state.sm.sql.close()  # ends the queries still running


def test_a_query_deaf_to_its_deadline_ends_its_worker(tmp_path: Path) -> None:
    project = make_project(tmp_path, query_timeout_s=1.0)
    app = create_app(project.config)
    with LiveServer(app) as live:
        url, headers = f"{live.url}/api/sql", project.headers("analyst")
        # the worker up first: its start (seconds on a busy machine) is not the query's time
        warm = httpx.post(url, json={"sql": "SELECT 1 AS n"}, headers=headers, timeout=60)
        assert warm.json()["rows"] == [[1]], warm.text
        sql = "SELECT length(regexp_replace(repeat('a', 100000000), 'a', 'bb', 'g')) AS n"
        t0 = time.monotonic()
        response = httpx.post(url, json={"sql": sql}, headers=headers, timeout=60)
        assert response.status_code == 400, response.text
        assert "could not be interrupted" in response.json()["detail"]
        assert time.monotonic() - t0 < 12
        response = httpx.post(url, json={"sql": "SELECT 3 AS n"}, headers=headers, timeout=30)
        assert response.json()["rows"] == [[3]]
    app.state.sm.sql.close()

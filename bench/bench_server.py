"""Metric endpoints vs the raw DuckDB queries behind them, and a 50-client load test.

    python bench/bench_server.py [--scale 0.1] [--seed 42] [--reps 5] [--clients 50]
                                 [--duration 30]

1. Builds (once, cached under bench/out/server/) the demo production at ``--scale`` in
   SQLite and syncs it into a mirror through the shipped policy.
2. Latency: for each metric (default range: the last twelve months, by month; in total and
   by its first dimension) the median of ``--reps`` runs of the raw SQL on a read-only DuckDB
   connection with the server's settings, and of the HTTP endpoint of a server started with
   its result cache off (so every request computes: SQL, grid, suppression, JSON, auth and
   the audit line). Runs alternate, so both see the same machine load. Target: ≤ 1.5×.
3. SQL: for a few read-only queries, the median of ``--reps`` runs on a read-only DuckDB
   connection and through ``POST /api/sql`` as an analyst (the sandbox's check, the SQL
   worker process's round trip, JSON, auth and the audit line).
4. Load: ``--clients`` concurrent clients for ``--duration`` seconds against a normal server
   (cache on), started cold, each looping over the dashboard's requests (every metric, in
   total and by each dimension); p50, p99, throughput and errors — overall, and "warm" for
   the requests started after the first 15 s, once every result has been computed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tests.conftest import free_port, port_open  # noqa: E402
from tests.metrics.world import project_yaml  # noqa: E402

from safemirror.config import ProjectConfig, load_config  # noqa: E402
from safemirror.metrics import MetricQuery, all_metrics  # noqa: E402
from safemirror.metrics.compute import latest_day  # noqa: E402
from safemirror.metrics.mirror import connect_read_only  # noqa: E402
from safemirror.metrics.periods import query_range  # noqa: E402
from safemirror.metrics.sqlexec import execute  # noqa: E402
from safemirror.server.cli import create_key  # noqa: E402

OUT = ROOT / "bench" / "out" / "server"
WARMUP_S = 15.0
SERVER = """
import sys
from collections.abc import Callable
from pathlib import Path
import uvicorn
from safemirror.config import load_config
from safemirror.server.app import create_app
app = create_app(load_config(Path(sys.argv[1])), cache_size=int(sys.argv[3]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def build(scale: float, seed: int) -> ProjectConfig:
    """Generate production and sync the mirror once per (scale, seed)."""
    from safemirror.demo.generate import generate
    from safemirror.sync.run import run_sync

    base = OUT / f"scale{scale:g}-seed{seed}"
    base.mkdir(parents=True, exist_ok=True)
    production, mirror = base / "production.db", base / "mirror.duckdb"
    config = load_config(project_yaml(base, mirror, f"sqlite:///{production}"))
    done = base / "built.json"
    if not done.exists():
        t0 = time.perf_counter()
        summary = generate(f"sqlite:///{production}", scale=scale, seed=seed, replace=True)
        t1 = time.perf_counter()
        run_sync(config, full=True)
        t2 = time.perf_counter()
        done.write_text(
            json.dumps(
                {"rows": summary.rows, "generate_s": round(t1 - t0, 1), "sync_s": round(t2 - t1, 1)}
            )
        )
    print(f"data: {json.loads(done.read_text())}", flush=True)
    return config


class Server:
    """The real server in its own process (uvicorn, loopback)."""

    def __init__(self, config: ProjectConfig, cache_size: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER,
                str(config.base_dir / "safemirror.yaml"),
                str(self.port),
                str(cache_size),
            ],
            env=env,
        )
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", self.port, 0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def cases(latest: date) -> list[tuple[str, str | None, MetricQuery]]:
    start, end = query_range(None, None, lambda: latest, datetime.now(UTC).date())
    return [
        (metric.name, by, MetricQuery(start, end, "month", by))
        for metric in all_metrics()
        for by in (None, *list(metric.dimensions)[:1])
    ]


def side_by_side(
    raw: Callable[[], object], endpoint: Callable[[], object], reps: int
) -> tuple[float, float]:
    """Median milliseconds of ``raw`` and ``endpoint``, alternated ``reps`` times after one
    warm-up call of each."""
    raw(), endpoint()
    raw_s, endpoint_s = [], []
    for _ in range(reps):
        for call, times in ((raw, raw_s), (endpoint, endpoint_s)):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
    return statistics.median(raw_s) * 1000, statistics.median(endpoint_s) * 1000


def latency(config: ProjectConfig, key: str, reps: int) -> list[dict[str, Any]]:
    con = connect_read_only(config.mirror, memory_limit=config.server.memory_limit)
    latest = latest_day(con)
    assert latest is not None
    server = Server(config, cache_size=0)
    rows = []
    try:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=300
        ) as client:
            for name, by, query in cases(latest):
                metric = next(m for m in all_metrics() if m.name == name)
                params = {"from": str(query.start), "to": str(query.end), "grain": "month"}
                if by:
                    params["by"] = by
                sql = metric.sql(query)
                raw_ms, endpoint_ms = side_by_side(
                    lambda sql=sql, query=query: execute(con, sql, query).fetchall(),
                    lambda name=name, params=params: client.get(
                        f"/api/metrics/{name}", params=params
                    ).raise_for_status(),
                    reps,
                )
                row = {
                    "metric": name,
                    "by": by or "–",
                    "raw_ms": round(raw_ms, 1),
                    "endpoint_ms": round(endpoint_ms, 1),
                }
                row["ratio"] = round(row["endpoint_ms"] / row["raw_ms"], 2)
                rows.append(row)
                print(
                    f"  {name:26} by {row['by']:9} raw {row['raw_ms']:8.1f} ms   endpoint "
                    f"{row['endpoint_ms']:8.1f} ms   {row['ratio']:.2f}×",
                    flush=True,
                )
    finally:
        server.stop()
        con.close()
    return rows


SQL_CASES = {  # name -> a query an analyst may send
    "SELECT 1": "SELECT 1 AS one",
    "group by": "SELECT country, count(*) AS n FROM users GROUP BY country ORDER BY country",
    "10,000 rows": "SELECT id, country, created_at FROM users ORDER BY id LIMIT 10000",
}


def sql_latency(config: ProjectConfig, key: str, reps: int) -> list[dict[str, Any]]:
    """Each of ``SQL_CASES`` on a read-only connection and through ``/api/sql``."""
    con = connect_read_only(config.mirror, memory_limit=config.server.memory_limit)
    server = Server(config, cache_size=0)
    rows = []
    try:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=300
        ) as client:
            for name, sql in SQL_CASES.items():
                raw_ms, endpoint_ms = side_by_side(  # the warm-up starts the SQL worker
                    lambda sql=sql: con.execute(sql).fetchall(),
                    lambda sql=sql: client.post("/api/sql", json={"sql": sql}).raise_for_status(),
                    reps,
                )
                row = {
                    "query": name,
                    "raw_ms": round(raw_ms, 2),
                    "endpoint_ms": round(endpoint_ms, 2),
                }
                rows.append(row)
                print(
                    f"  {name:12} raw {row['raw_ms']:8.2f} ms   endpoint "
                    f"{row['endpoint_ms']:8.2f} ms",
                    flush=True,
                )
    finally:
        server.stop()
        con.close()
    return rows


async def load(config: ProjectConfig, key: str, clients: int, duration: float) -> dict[str, Any]:
    server = Server(config, cache_size=256)
    latencies: list[tuple[float, float]] = []  # (started, seconds)
    errors: list[str] = []
    paths = ["/api/metrics"] + [
        f"/api/metrics/{m.name}" + (f"?by={by}" if by else "")
        for m in all_metrics()
        for by in (None, *m.dimensions)
    ]
    try:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(
            base_url=server.url,
            limits=limits,
            timeout=120,
            headers={"Authorization": f"Bearer {key}"},
        ) as client:
            stop_at = time.monotonic() + duration

            async def worker(n: int) -> None:
                i = n
                while time.monotonic() < stop_at:
                    path = paths[i % len(paths)]
                    i += 1
                    t0 = time.perf_counter()
                    try:
                        response = await client.get(path)
                        if response.status_code != 200:
                            errors.append(f"{response.status_code} {path}")
                    except httpx.HTTPError as exc:
                        errors.append(f"{type(exc).__name__} {path}")
                    latencies.append((t0, time.perf_counter() - t0))

            started = time.perf_counter()
            await asyncio.gather(*(worker(n) for n in range(clients)))
            elapsed = time.perf_counter() - started
    finally:
        server.stop()

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    every = [s for _, s in latencies]
    warm = [s for t, s in latencies if t >= started + WARMUP_S]  # every result computed
    return {
        "clients": clients,
        "duration_s": round(elapsed, 1),
        "requests": len(every),
        "throughput_rps": round(len(every) / elapsed, 1),
        "p50_ms": pct(every, 0.50),
        "p99_ms": pct(every, 0.99),
        "max_ms": round(max(every) * 1000, 1),
        "warm_requests": len(warm),
        "warm_rps": round(len(warm) / max(1e-9, elapsed - WARMUP_S), 1),
        "warm_p50_ms": pct(warm, 0.50),
        "warm_p99_ms": pct(warm, 0.99),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--only", choices=["latency", "sql", "load"], default=None)
    args = parser.parse_args()
    config = build(args.scale, args.seed)
    key = create_key(config, "viewer", f"bench-{int(time.time())}")[1]
    report: dict[str, Any] = {"scale": args.scale, "seed": args.seed, "cpus": os.cpu_count()}
    if args.only in (None, "latency"):
        print(f"latency (median of {args.reps}):", flush=True)
        rows = latency(config, key, args.reps)
        worst = max(r["ratio"] for r in rows)
        total = round(sum(r["endpoint_ms"] for r in rows) / sum(r["raw_ms"] for r in rows), 2)
        print(f"  worst ratio {worst:.2f}×, overall {total:.2f}× (target ≤ 1.5×)", flush=True)
        report |= {"latency": rows, "worst_ratio": worst, "overall_ratio": total}
    if args.only in (None, "sql"):
        print(f"SQL (median of {args.reps}):", flush=True)
        analyst = create_key(config, "analyst", f"bench-sql-{int(time.time())}")[1]
        report["sql"] = sql_latency(config, analyst, args.reps)
    if args.only in (None, "load"):
        print(f"load: {args.clients} clients for {args.duration:g} s ...", flush=True)
        report["load"] = asyncio.run(load(config, key, args.clients, args.duration))
        print(f"  {report['load']}", flush=True)
    (OUT / f"results-{args.only or 'all'}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

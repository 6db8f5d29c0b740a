"""Sync benchmark, side by side in one run on the same PostgreSQL data.

    .venv/bin/python bench/bench_sync.py --scale 0.1 --small-scale 0.01

Measures, each step in its own process (time and peak RSS):
  raw     — a raw copy of the same tables into DuckDB: same reader, no transforms, no verify
  sync    — safemirror's de-identified full sync, verify included
  incr    — an incremental sync after ~1 % of rows changed (median of three rounds)
  dlt     — the same job in dlt (sql_table, pyarrow backend, our operators via add_map)
and the sync's peak memory at a second, smaller scale. The raw copy and the full sync run
``--repeat`` times each (each full sync into a fresh mirror) and report their median run, as
the rounds do: one run of a few seconds moves with the machine's speed from minute to minute.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import yaml

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
POLICY = Path(__file__).resolve().parents[1] / "src/safemirror/policy/demo_policy.yaml"


def database(scale: float, reuse: bool) -> tuple[str, bool]:
    """The benchmark database for ``scale``; True when it must be (re)generated."""
    name = f"sm_bench_{str(scale).replace('.', '_')}"
    with psycopg.connect(ADMIN, autocommit=True) as con:
        exists = con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and reuse:
            return f"postgresql://postgres@127.0.0.1:5432/{name}", False
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}", True


def project(workdir: Path, url: str) -> Path:
    from safemirror.keys import create_key_file

    workdir.mkdir(parents=True, exist_ok=True)
    key = workdir / "bench.key"
    if not key.exists():
        create_key_file(key)
    cfg = workdir / "safemirror.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "source": url,
                "mirror": "mirror.duckdb",
                "key": f"file:{key}",
                "audit_log": "audit.jsonl",
                "policy": str(POLICY),
            }
        )
    )
    return cfg


def step(name: str, cfg: Path) -> dict[str, Any]:
    """Run one measured step in a child process; return its seconds, rows and peak RSS.
    Data the steps before left for the kernel to write back is written out first, so one
    step's writes are not paid by the next."""
    os.sync()
    out = subprocess.run(
        [sys.executable, __file__, "--step", name, str(cfg)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        sys.exit(f"step {name} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def fresh_mirror(cfg: Path) -> None:
    """Remove the project's mirror and its companions (spare, seal, lock): a full sync then
    starts from nothing, as the first one did."""
    for path in [*cfg.parent.glob("mirror.duckdb*"), *cfg.parent.glob(".mirror.duckdb.*")]:
        path.unlink()


def median_step(name: str, cfg: Path, repeat: int) -> dict[str, Any]:
    """``step`` run ``repeat`` times: the median run (by the run's own time for a sync),
    every run's time, and the highest peak memory of them all. A full sync starts from an
    empty mirror each time; the last one's mirror stays for the rounds."""
    runs = []
    for _ in range(repeat):
        if name == "sync":
            fresh_mirror(cfg)
        runs.append(step(name, cfg))
    timed = "run_s" if name == "sync" else "seconds"
    median = dict(sorted(runs, key=lambda r: float(r[timed]))[len(runs) // 2])
    median["runs"] = [round(float(r[timed]), 2) for r in runs]
    median["peak_mb"] = max(float(r["peak_mb"]) for r in runs)
    return median


def _raw(cfg: Path) -> int:
    import duckdb

    from safemirror.config import load_config, source_url
    from safemirror.sources.registry import open_source
    from safemirror.sync.stream import as_reader, prefetch, with_schema

    config = load_config(cfg)
    target = cfg.parent / "raw.duckdb"
    target.unlink(missing_ok=True)
    source = open_source(source_url(config))
    con = duckdb.connect(str(target))
    rows = 0
    for name, info in source.tables().items():
        cols = [c.name for c in info.columns]
        schema, batches = with_schema(
            prefetch(source.read(name, cols)), source.schema_of(name, cols)
        )
        reader = as_reader(schema, batches)
        con.register("src", reader)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM src')
        con.unregister("src")
        rows += int(con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
    con.execute("CHECKPOINT")
    con.close()
    source.close()
    return rows


def _sync(cfg: Path, full: bool) -> tuple[int, float]:
    """Rows read and the seconds of ``run_sync`` alone: every module it uses is imported
    first, the source driver and the detectors too (the run loads those on first use)."""
    import safemirror.sources.postgres  # noqa: F401
    from safemirror.config import load_config
    from safemirror.policy.detectors.registry import mirror_detectors
    from safemirror.sync.run import run_sync

    mirror_detectors()
    config = load_config(cfg)
    start = time.perf_counter()
    result = run_sync(config, full=full)
    return sum(o.rows_read for o in result.tables.values()), time.perf_counter() - start


def _peak_mb() -> float:
    """This process's peak RSS. ``ru_maxrss`` would not do: it survives exec, so a child
    forked from a big parent reports the parent's size; VmHWM starts afresh at exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dlt(cfg: Path) -> int:
    import dlt
    import pyarrow as pa
    from dlt.sources.sql_database import sql_table

    from safemirror.config import load_config, source_url
    from safemirror.keys import fingerprint, load_key
    from safemirror.mirror.manifest import MirrorState
    from safemirror.sources.registry import open_source
    from safemirror.sync.categories import count_on_source
    from safemirror.sync.plan import make_plan
    from safemirror.transforms.apply import TableTransform
    from safemirror.transforms.registry import TransformContext

    config = load_config(cfg)
    url = source_url(config)
    source = open_source(url)
    key = load_key(config.key, config.base_dir)
    plans = make_plan(
        config.policy,
        source.tables(),
        MirrorState(),
        full=True,
        key_fingerprint=fingerprint(key),
        origin="bench",
    )
    allowed = count_on_source(source, {p.name: p.policy for p in plans})
    ctx = TransformContext(key=key, allowed_values=allowed)
    source.close()
    rows = 0
    resources = []
    for plan in plans:
        transform = TableTransform(plan.name, plan.policy, ctx)

        def make_apply(transform: TableTransform) -> Any:
            def apply(item: Any, meta: Any = None) -> Any:
                return pa.Table.from_batches([transform(b) for b in item.to_batches()])

            return apply

        resource_ = sql_table(
            credentials=url.replace("postgresql://", "postgresql+psycopg://"),
            table=plan.name,
            backend="pyarrow",
            chunk_size=131_072,
            included_columns=plan.select,
        ).add_map(make_apply(transform))
        resources.append(resource_)
    workdir = cfg.parent / "dlt"
    shutil.rmtree(workdir, ignore_errors=True)
    pipeline = dlt.pipeline(
        pipeline_name="bench",
        pipelines_dir=str(workdir / "state"),
        destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")),
        dataset_name="mirror",
        progress=None,
    )
    info = pipeline.run(resources, write_disposition="replace")
    del info
    import duckdb

    con = duckdb.connect(str(workdir / "dlt.duckdb"), read_only=True)
    for plan in plans:
        rows += int(con.execute(f'SELECT count(*) FROM mirror."{plan.name}"').fetchall()[0][0])
    con.close()
    return rows


def child(name: str, cfg: Path) -> None:
    start = time.perf_counter()
    run_s = None
    if name == "raw":
        rows = _raw(cfg)
    elif name in ("sync", "incr"):
        rows, run_s = _sync(cfg, full=name == "sync")
    else:
        rows = _dlt(cfg)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {"step": name, "seconds": seconds, "run_s": run_s, "rows": rows, "peak_mb": _peak_mb()}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--small-scale", type=float, default=0.01)
    parser.add_argument("--skip-dlt", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="raw copies and full syncs")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the generated databases of an earlier run (mutated!)",
    )
    parser.add_argument("--step", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        child(args.step[0], Path(args.step[1]))
        return
    from safemirror.demo.generate import generate
    from safemirror.demo.mutate import mutate

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="sm-bench-") as tmp:
        for scale, tag in ((args.small_scale, "small"), (args.scale, "main")):
            url, fresh = database(scale, args.reuse)
            if fresh:
                print(f"generating scale {scale} into PostgreSQL …", flush=True)
                generate(url, scale=scale, seed=7)
            cfg = project(Path(tmp) / tag, url)
            if tag == "small":
                results["sync_small"] = step("sync", cfg)
                continue
            results["raw"] = median_step("raw", cfg, max(1, args.repeat))
            print(f"raw copy: {results['raw']['runs']} s", flush=True)
            results["sync"] = median_step("sync", cfg, max(1, args.repeat))
            print(f"full sync run_sync: {results['sync']['runs']} s", flush=True)
            rounds = []
            for seed in (11, 12, 13):  # three rounds of ~1 % changes; the median is kept
                changed = mutate(url, fraction=0.01, seed=seed, at=datetime.now(UTC))
                print(f"changed rows: {sum(changed.values()):,} {changed}", flush=True)
                rounds.append(step("incr", cfg))
                print(f"incremental run_sync: {rounds[-1]['run_s']:.3f} s", flush=True)
            results["incr"] = sorted(rounds, key=lambda r: float(r["run_s"]))[1]
            if not args.skip_dlt:  # after the rounds, which continue the sync's mirror
                results["dlt"] = step("dlt", cfg)
    print()
    print(f"{'step':<12}{'seconds':>10}{'rows':>14}{'rows/s':>14}{'peak MB':>10}")
    for name, r in results.items():
        print(
            f"{name:<12}{r['seconds']:>10.2f}{r['rows']:>14,}"
            f"{r['rows'] / r['seconds']:>14,.0f}{r['peak_mb']:>10.0f}"
        )
    raw, sync = results["raw"], results["sync"]
    print(
        f"\nde-identified sync throughput / raw copy throughput: "
        f"{(raw['seconds'] / sync['seconds']):.2f}  (target >= 0.8; same source rows)"
    )
    if "dlt" in results:
        print(
            f"dlt time / safemirror time: {results['dlt']['seconds'] / sync['seconds']:.1f}x"
            "  (target >= 5)"
        )
    print(
        f"incremental (1 % changed) / full: {results['incr']['seconds'] / sync['seconds']:.1%}"
        " of the step (imports included)"
    )
    incr_run, sync_run = results["incr"]["run_s"], sync["run_s"]
    print(
        f"incremental (1 % changed) / full, run_sync alone: {incr_run / sync_run:.1%}"
        f" ({incr_run:.2f} s / {sync_run:.2f} s; target <= 5 %)"
    )
    print(
        f"peak memory: scale {args.small_scale}: {results['sync_small']['peak_mb']:.0f} MB, "
        f"scale {args.scale}: {sync['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()

"""Benchmark the demo generator: rows/s and peak memory into SQLite and PostgreSQL.

    python bench/bench_generate.py [--scale 0.1] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                   [--targets memory,sqlite,postgresql] [--writers]

Each target runs in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own.
``memory`` generates without writing (the generator's own speed). ``--writers`` also
compares the two PostgreSQL bulk paths on the same one million connection events: ADBC
``adbc_ingest`` (binary COPY, what ``generate`` uses) and psycopg ``COPY … FROM STDIN`` fed
with CSV written by Arrow.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _fresh_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"sm_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin_url.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_one(target: str, scale: float, admin_url: str) -> dict[str, object]:
    """Generate once into ``target`` in this process; report rows, time and peak RSS."""
    from safemirror.demo.chunks import generate_chunks
    from safemirror.demo.generate import generate

    started = time.perf_counter()
    if target == "memory":
        rows = sum(t.num_rows for chunk in generate_chunks(42, scale) for t in chunk.values())
        seconds = time.perf_counter() - started
    elif target == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            summary = generate(f"sqlite:///{Path(tmp) / 'prod.db'}", scale=scale, seed=42)
            size = (Path(tmp) / "prod.db").stat().st_size
        rows, seconds = summary.total_rows, summary.seconds
    else:
        name, url = _fresh_database(admin_url)
        try:
            summary = generate(url, scale=scale, seed=42)
        finally:
            _drop_database(admin_url, name)
        rows, seconds, size = summary.total_rows, summary.seconds, 0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out: dict[str, object] = {
        "target": target,
        "rows": rows,
        "seconds": seconds,
        "peak_mb": peak_mb,
    }
    if target == "sqlite":
        out["file_mb"] = size / 1e6
    return out


def compare_writers(admin_url: str, rows: int = 1_000_000) -> list[tuple[str, float]]:
    """ADBC binary COPY vs psycopg CSV COPY of the same connection events."""
    import adbc_driver_postgresql.dbapi as pg
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from safemirror.demo.chunks import generate_chunks
    from safemirror.demo.schema import create_ddl

    batches: list[pa.Table] = []
    for chunk in generate_chunks(42, 0.1):
        batches.append(chunk["connection_events"])
        if sum(b.num_rows for b in batches) >= rows:
            break
    events = pa.concat_tables(batches).slice(0, rows)
    ddl = create_ddl("connection_events", "postgresql")
    name, url = _fresh_database(admin_url)
    results = []
    try:
        with pg.connect(url) as conn, conn.cursor() as cur:
            cur.execute(ddl)
            started = time.perf_counter()
            cur.adbc_ingest("connection_events", events, mode="append")
            conn.commit()
            results.append(("adbc_ingest (binary COPY)", time.perf_counter() - started))
        with psycopg.connect(url) as conn:
            conn.execute("TRUNCATE connection_events")
            started = time.perf_counter()
            with conn.cursor().copy("COPY connection_events FROM STDIN (FORMAT csv)") as copy:
                for batch in events.to_batches(200_000):
                    buf = io.BytesIO()
                    options = pcsv.WriteOptions(include_header=False)
                    pcsv.write_csv(pa.Table.from_batches([batch]), buf, options)
                    copy.write(buf.getvalue())
            conn.commit()
            results.append(("psycopg COPY (Arrow CSV)", time.perf_counter() - started))
    finally:
        _drop_database(admin_url, name)
    return [(label, rows / seconds) for label, seconds in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--pg", default=PG_ADMIN, help="admin URL; a scratch database is made")
    parser.add_argument("--targets", default="memory,sqlite,postgresql")
    parser.add_argument("--writers", action="store_true", help="compare PostgreSQL writers")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.scale, args.pg)))
        return

    results = []
    for target in args.targets.split(","):
        cmd = [sys.executable, __file__, "--one", target, "--scale", str(args.scale)]
        done = subprocess.run([*cmd, "--pg", args.pg], capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"\nGeneration at scale {args.scale:g} (seed 42)")
    print(f"{'target':<12}{'rows':>13}{'seconds':>10}{'rows/s':>12}{'peak RSS':>11}")
    for r in results:
        print(
            f"{r['target']:<12}{r['rows']:>13,}{r['seconds']:>10.1f}"
            f"{r['rows'] / r['seconds']:>12,.0f}{r['peak_mb']:>8.0f} MB"
        )
    if args.writers:
        print("\nPostgreSQL bulk load of 1,000,000 connection events")
        for label, rate in compare_writers(args.pg):
            print(f"  {label:<28}{rate:>12,.0f} rows/s")


if __name__ == "__main__":
    main()

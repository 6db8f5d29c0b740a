"""Reader benchmark: the CPU the PostgreSQL source spends per row, by driver build.

    .venv/bin/pip install --target /tmp/adbc-1.13 adbc-driver-postgresql==1.13.0 \\
        adbc-driver-manager==1.13.0
    .venv/bin/python bench/bench_read.py --url postgresql://postgres@127.0.0.1:5432/sm_bench_0_1 \\
        --compare /tmp/adbc-1.13

Reads the same rows of one table through ``PostgresSource`` with the installed driver
and, with ``--compare DIR``, in a child process whose drivers come from ``DIR`` first;
prints each one's wall time, this process's CPU (the decoding; PostgreSQL's own work is
not counted) and the ratio. Each side reads the rows once to warm up, then ``--repeat``
times; the best repeat is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any


def measure(url: str, table: str, columns: list[str], repeat: int) -> dict[str, Any]:
    """Read ``columns`` of ``table`` ``repeat`` times (after a warm-up); the best run."""
    import adbc_driver_postgresql

    from safemirror.sources.postgres import PostgresSource

    source = PostgresSource(url)
    try:
        best: dict[str, Any] = {}
        for attempt in range(repeat + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            rows = sum(batch.num_rows for batch in source.read(table, columns))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if attempt and (not best or cpu < best["cpu_s"]):
                best = {"rows": rows, "wall_s": wall, "cpu_s": cpu}
    finally:
        source.close()
    version = getattr(adbc_driver_postgresql, "__version__", "?")
    return {"driver": version, **best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/sm_bench_0_1")
    parser.add_argument("--table", default="connection_events")
    parser.add_argument(
        "--columns", default="id,device_id,ts,outcome,error_code,rssi_dbm,latency_ms"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", help="a directory holding other driver builds")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    columns = args.columns.split(",")
    result = measure(args.url, args.table, columns, args.repeat)
    if args.child:
        print(json.dumps(result))
        return
    results = [result]
    if args.compare:
        env = {**os.environ, "PYTHONPATH": args.compare}
        child = [sys.executable, __file__, "--child", *sys.argv[1:]]
        out = subprocess.run(child, env=env, capture_output=True, text=True, check=False)
        if out.returncode:
            sys.exit(f"the comparison run failed:\n{out.stderr[-2000:]}")
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'driver':<10}{'rows':>12}{'wall s':>10}{'CPU s':>10}{'CPU µs/row':>12}")
    for r in results:
        per_row = 1e6 * r["cpu_s"] / max(r["rows"], 1)
        print(
            f"{r['driver']:<10}{r['rows']:>12,}{r['wall_s']:>10.3f}{r['cpu_s']:>10.3f}{per_row:>12.3f}"
        )
    if len(results) == 2:
        print(
            f"\nCPU per row, {results[1]['driver']} / {results[0]['driver']}: "
            f"{results[1]['cpu_s'] / results[0]['cpu_s']:.1f}x"
        )


if __name__ == "__main__":
    main()

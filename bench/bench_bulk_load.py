"""Incremental sync right after a bulk load, whose rows share one change stamp.

    .venv/bin/python bench/bench_bulk_load.py --rows 2000000

Loads ``--rows`` rows into PostgreSQL in one statement (``updated_at DEFAULT now()``, no
index on it), runs a full sync, changes 1 % of the rows, then runs an incremental sync,
and prints both times and the rows each read. Before a full run looked up the row versions
at each mark, the incremental run read the whole table again.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg
import yaml

from safemirror.config import load_config
from safemirror.keys import create_key_file
from safemirror.sync.run import run_sync

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NAME = "sm_bench_bulk"
URL = f"postgresql://postgres@127.0.0.1:5432/{NAME}"
POLICY = {
    "version": 1,
    "tables": {
        "readings": {
            "primary_key": ["id"],
            "cursor": ["updated_at"],
            "columns": {
                "id": "keep",
                "device_id": {"action": "pseudonymize", "domain": "device"},
                "value": "keep",
                "updated_at": "keep",
            },
        }
    },
}


def load(rows: int) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{NAME}"')
    with psycopg.connect(URL, autocommit=True) as con:
        con.execute(
            "CREATE TABLE readings (id bigint PRIMARY KEY, device_id bigint, "
            "value double precision, updated_at timestamptz NOT NULL DEFAULT now())"
        )
        con.execute(
            "INSERT INTO readings (id, device_id, value) "
            "SELECT g, g %% 5000, random() FROM generate_series(1, %s) g",
            (rows,),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    load(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        create_key_file(work / "bench.key")
        cfg = work / "safemirror.yaml"
        body = {"source": URL, "mirror": "m.duckdb", "key": "file:bench.key", "policy": POLICY}
        cfg.write_text(yaml.safe_dump(body))
        config = load_config(cfg)
        t0 = time.perf_counter()
        full = run_sync(config)
        full_s = time.perf_counter() - t0
        with psycopg.connect(URL, autocommit=True) as con:
            con.execute("UPDATE readings SET value = -1, updated_at = now() WHERE id % 100 = 0")
        t0 = time.perf_counter()
        incr = run_sync(config)
        incr_s = time.perf_counter() - t0
    print(f"full sync:        {full_s:6.2f} s, {full.tables['readings'].rows_read:,} rows read")
    print(f"incremental sync: {incr_s:6.2f} s, {incr.tables['readings'].rows_read:,} rows read")
    print(f"incremental / full: {incr_s / full_s:.1%} (1 % of rows changed)")


if __name__ == "__main__":
    main()

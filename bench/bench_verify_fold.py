"""verify's in-database matching: what folding a column costs in PostgreSQL.

    .venv/bin/python bench/bench_verify_fold.py \\
        --url postgresql://postgres@127.0.0.1:5432/sm_bench_0_1 \\
        --table connection_events --column client_ip

Asks ``PostgresSource.matching`` for a few dozen of the column's own values (folded), and
runs the same semi-join with PostgreSQL's plain ``lower()`` for comparison; prints the best
of ``--repeat`` wall times of each and their ratio. Read-only: nothing is written.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from safemirror.sources.folding import fold_str
from safemirror.sources.postgres import PostgresSource


def best_of(repeat: int, run: Any) -> float:
    """The shortest wall time of ``repeat`` calls of ``run``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/sm_bench_0_1")
    parser.add_argument("--table", default="connection_events")
    parser.add_argument("--column", default="client_ip")
    parser.add_argument("--values", type=int, default=40, help="values asked for")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with PostgresSource(args.url) as source:
        sample = source.sample(args.table, [args.column], args.values).column(0).to_pylist()
        wanted = sorted({fold_str(str(v)) for v in sample if v is not None})
        folded = best_of(args.repeat, lambda: source.matching(args.table, args.column, wanted))
        text = f'("{args.column}")::text'
        plain_sql = (
            f'SELECT DISTINCT lower({text}) FROM "{args.table}" '
            f"WHERE lower({text}) IN (SELECT json_array_elements_text($1::json))"
        )
        plain = best_of(args.repeat, lambda: source._query(plain_sql, (json.dumps(wanted),)))
    result = {
        "table": args.table,
        "column": args.column,
        "values": len(wanted),
        "matching_s": round(folded, 3),
        "plain_lower_s": round(plain, 3),
        "ratio": round(folded / plain, 2) if plain else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Policy loading benchmark: a wide schema's policy through safemirror's strict loader
(libyaml's parser, duplicate keys refused) against PyYAML's pure-Python ``SafeLoader``.

    .venv/bin/python bench/bench_policy_load.py --tables 300

The policy is synthetic (each table: a key, a cursor and a few classified columns, the
shape ``policy suggest`` drafts); both loaders read the same text, ``--repeat`` times,
and the best run of each is reported with their ratio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import yaml

from safemirror import strict_yaml


def policy_text(tables: int) -> str:
    """A policy of ``tables`` tables, as ``policy suggest`` lays one out."""
    lines = ["version: 1", "tables:"]
    for i in range(tables):
        lines += [
            f"  t{i}:",
            "    primary_key: [id]",
            "    cursor: [updated_at]",
            "    columns:",
            f"      id: {{action: pseudonymize, domain: t{i}, type: bigint}}  # primary key",
            "      name: {action: drop, type: text}  # the name suggests personal data",
            "      score: {action: keep, type: integer}  # a numeric measurement",
            "      updated_at: {action: generalize, truncate: day, type: timestamp}",
        ]
    return "\n".join(lines) + "\n"


def best(load: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        load()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    text = policy_text(args.tables)
    assert strict_yaml.load(text) == yaml.load(text, Loader=yaml.SafeLoader)
    ours = best(lambda: strict_yaml.load(text), args.repeat)
    python = best(lambda: yaml.load(text, Loader=yaml.SafeLoader), args.repeat)
    print(f"{args.tables} tables, {len(text.splitlines()):,} lines")
    print(f"strict loader (libyaml: {yaml.__with_libyaml__}): {ours * 1000:.1f} ms")
    print(f"pure-Python SafeLoader: {python * 1000:.1f} ms")
    print(f"ratio: {python / ours:.1f}x faster")


if __name__ == "__main__":
    main()

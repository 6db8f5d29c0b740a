"""Determinism: same seed and scale → identical data (and bytes); another seed → different."""

from __future__ import annotations

from pathlib import Path

import pytest

from safemirror.demo.chunks import generate_chunks
from safemirror.demo.generate import TABLES, generate
from tests.demo.demo_support import fingerprint, sqlite_url

SCALE = 0.001


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("determinism")
    out = {}
    for name, seed in (("a", 7), ("b", 7), ("other", 8)):
        out[name] = base / f"{name}.db"
        generate(sqlite_url(out[name]), scale=SCALE, seed=seed)
    return out


def test_same_seed_same_bytes(runs: dict[str, Path]) -> None:
    assert fingerprint(sqlite_url(runs["a"])) == fingerprint(sqlite_url(runs["b"]))
    assert runs["a"].read_bytes() == runs["b"].read_bytes()


def test_other_seed_other_data(runs: dict[str, Path]) -> None:
    a, other = fingerprint(sqlite_url(runs["a"])), fingerprint(sqlite_url(runs["other"]))
    assert all(a[t] != other[t] for t in TABLES)


def test_chunks_are_reproducible_in_memory() -> None:
    first = [c["connection_events"] for c in generate_chunks(3, 0.001)]
    second = [c["connection_events"] for c in generate_chunks(3, 0.001)]
    assert all(x.equals(y) for x, y in zip(first, second, strict=True))


@pytest.mark.postgres
def test_postgres_holds_the_same_data_as_sqlite(runs: dict[str, Path], pg_url: str) -> None:
    generate(pg_url, scale=SCALE, seed=7)
    assert fingerprint(pg_url) == fingerprint(sqlite_url(runs["a"]))

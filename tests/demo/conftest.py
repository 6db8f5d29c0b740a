"""Fixtures for the demo tests: one generated SQLite database shared by the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from safemirror.demo.generate import GenerationSummary, generate
from tests.demo.demo_support import sqlite_url

SCALE = 0.005
SEED = 42


@pytest.fixture(scope="session")
def sqlite_generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, GenerationSummary]:
    """The demo database at scale 0.005 (12 k users), seed 42, in SQLite."""
    path = tmp_path_factory.mktemp("demo") / "production.db"
    summary = generate(sqlite_url(path), scale=SCALE, seed=SEED)
    return sqlite_url(path), summary


@pytest.fixture(scope="session")
def sqlite_db(sqlite_generated: tuple[str, GenerationSummary]) -> str:
    return sqlite_generated[0]


@pytest.fixture
def small_sqlite(tmp_path: Path) -> str:
    """A URL for a fresh SQLite file (not created yet)."""
    return sqlite_url(tmp_path / "prod.db")

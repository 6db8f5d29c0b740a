"""Source fixtures: the same dataset behind each source kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from safemirror.sources.base import Source
from safemirror.sources.registry import open_source
from tests.sources.dataset import write_postgres, write_sqlite


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_sqlite(tmp_path_factory.mktemp("src") / "production.db")


@pytest.fixture(scope="module")
def postgres_url(pg_module_url: str) -> str:
    return write_postgres(pg_module_url)


@pytest.fixture(params=["sqlite", "postgres"])
def source(request: pytest.FixtureRequest) -> Iterator[Source]:
    """Each source kind over the same data (one test, every backend)."""
    url = request.getfixturevalue(f"{request.param}_url")
    src = open_source(url)
    try:
        yield src
    finally:
        src.close()


@pytest.fixture
def both(sqlite_url: str, postgres_url: str) -> Iterator[tuple[Source, Source]]:
    lite, pg = open_source(sqlite_url), open_source(postgres_url)
    try:
        yield lite, pg
    finally:
        lite.close()
        pg.close()

"""Opening sources by URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from safemirror.errors import ExitCode, SourceError, UsageError
from safemirror.sources.common import redact_url
from safemirror.sources.registry import SOURCES, open_source
from tests.conftest import sqlite_db


def test_registered_schemes() -> None:
    assert {"postgresql", "postgres", "sqlite"} <= set(SOURCES)


@pytest.mark.parametrize(
    "url",
    ["mysql://root:hunter2@db:3306/prod", "hunter2", "ftp://u:hunter2@host/x?password=hunter2"],
)
def test_unknown_schemes_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(SourceError) as err:
        open_source(url)
    assert "hunter2" not in str(err.value)
    assert "sqlite:///" in str(err.value) and "postgresql://" in str(err.value)
    assert err.value.exit_code == ExitCode.SOURCE


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u@h:5432/db"),
        ("postgresql://u@h/db?sslmode=require&password=pw", "postgresql://u@h/db?sslmode=require"),
        ("postgres://:pw@h/db", "postgres://h/db"),
        ("sqlite:////abs/file.db", "sqlite:////abs/file.db"),
        ("sqlite:///rel/file.db", "sqlite:///rel/file.db"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_sqlite_urls_must_name_a_file() -> None:
    with pytest.raises(SourceError, match="not a SQLite URL"):
        open_source("sqlite://host/file.db")


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("immutable=1", "'immutable'"),
        ("mode=rw&password=hunter2&cache=shared", "'cache', 'mode', 'password'"),
        ("nolock", "'nolock'"),
        ("=hunter2", "a parameter with no name"),
    ],
)
def test_sqlite_urls_refuse_query_parameters_naming_them(
    tmp_path: Path, query: str, named: str
) -> None:
    """None is supported: one silently ignored would leave the user believing it works."""
    url = sqlite_db(tmp_path / "x.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with pytest.raises(UsageError) as err:
        open_source(f"{url}?{query}")
    assert err.value.exit_code == ExitCode.USAGE
    assert f"sets {named}," in str(err.value) and "takes no query parameters" in str(err.value)
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///x.db#hunter2",
        "sqlite:///x.db#",
        "postgresql://reader:pass#hunter2@db.internal/prod",  # a '#' in a password
        "mysql://reader:pass#hunter2@db.internal/prod",
    ],
)
def test_source_urls_refuse_a_fragment_without_echoing_it(tmp_path: Path, url: str) -> None:
    sqlite_db(tmp_path / "x.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with pytest.raises(UsageError, match="fragment") as err:
        open_source(url, base_dir=tmp_path)
    assert "hunter2" not in str(err.value) and "%23" in str(err.value)


def test_a_question_mark_in_a_sqlite_file_name_is_written_escaped(tmp_path: Path) -> None:
    sqlite_db(tmp_path / "x?y#z.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    assert "t" in open_source("sqlite:///x%3Fy%23z.db", base_dir=tmp_path).tables()

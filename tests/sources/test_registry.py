"""Opening sources by URL."""

from __future__ import annotations

import pytest

from safemirror.errors import ExitCode, SourceError
from safemirror.sources.common import redact_url
from safemirror.sources.registry import SOURCES, open_source


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

"""Open a source by URL scheme. Add a database by adding its scheme to ``SOURCES``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from safemirror.errors import SourceError
from safemirror.sources.base import Source
from safemirror.sources.common import redact_url, refuse_fragment


def _postgres(url: str, base_dir: Path | None) -> Source:
    from safemirror.sources.postgres import PostgresSource

    return PostgresSource(url)


def _sqlite(url: str, base_dir: Path | None) -> Source:
    from safemirror.sources.sqlite import SqliteSource

    return SqliteSource(url, base_dir=base_dir)


SourceFactory = Callable[[str, Path | None], Source]

#: URL scheme -> factory(url, base_dir for relative paths)
SOURCES: dict[str, SourceFactory] = {
    "postgresql": _postgres,
    "postgres": _postgres,
    "sqlite": _sqlite,
}

_EXAMPLES = "postgresql://user@host:5432/dbname or sqlite:///path/to/file.db"


def open_source(url: str, *, base_dir: Path | None = None) -> Source:
    """The source behind ``url``; relative SQLite paths start from ``base_dir`` (or the
    working directory). Raises SourceError naming the URL (password removed) and the fix;
    UsageError for a URL with a ``#fragment``, which no source reads."""
    refuse_fragment(url)
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    factory = SOURCES.get(scheme)
    if factory is None:
        known = ", ".join(f"{s}://" for s in SOURCES)
        if not scheme:  # never echo it: it may be a password pasted in the wrong place
            raise SourceError("the source URL has no scheme", hint=f"use {_EXAMPLES}")
        raise SourceError(
            f"unsupported source URL {redact_url(url)!r}: scheme {scheme!r} is not one of {known}",
            hint=f"use {_EXAMPLES}",
        )
    return factory(url, base_dir)

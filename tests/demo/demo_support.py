"""Helpers for the demo tests: run SQL on either target, fingerprint a database."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.demo.schema import TABLES
from safemirror.demo.session import Session
from safemirror.demo.targets import parse_target


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` on the database at ``url``."""
    target = parse_target(url)
    if target.kind == "sqlite":
        assert target.path is not None
        with contextlib.closing(sqlite3.connect(target.path)) as conn:
            return list(conn.execute(sql).fetchall())
    import psycopg

    with psycopg.connect(url) as conn:
        return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]


def value(url: str, sql: str) -> Any:
    return rows(url, sql)[0][0]


def table_names(url: str) -> list[str]:
    target = parse_target(url)
    if target.kind == "sqlite":
        found = rows(
            url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
        )
    else:
        found = rows(
            url,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        )
    return sorted(r[0] for r in found)


def _normalized(table: pa.Table) -> pa.Table:
    """Dialect-neutral values: timestamps as UTC microseconds, booleans as 0/1."""
    cols = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if name.endswith("_at") or name == "ts":
            cols.append(pa.array(Session.micros(col)))
        elif pa.types.is_boolean(col.type) or pa.types.is_integer(col.type):
            cols.append(pc.cast(col, pa.int64()))
        else:
            cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


def _digest(column: pa.ChunkedArray | pa.Array) -> bytes:
    """A digest of one normalized column: values and nulls, independent of chunking."""
    text = pc.fill_null(pc.cast(column, pa.string()), "\x00")
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    joined = pc.binary_join(pa.ListArray.from_arrays([0, len(text)], text), "\x1f")
    return hashlib.sha256(joined[0].as_py().encode()).digest()


def fingerprint(url: str) -> dict[str, str]:
    """A SHA-256 per table over every row in id order, equal across dialects."""
    session = Session(parse_target(url))
    try:
        out = {}
        for table in TABLES:
            data = _normalized(session.query(f"SELECT * FROM {table} ORDER BY id"))
            digest = hashlib.sha256()
            for col in data.columns:
                digest.update(_digest(col))
            out[table] = digest.hexdigest()
        return out
    finally:
        session.close()

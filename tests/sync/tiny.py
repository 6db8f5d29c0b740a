"""A tiny hand-made SQLite production the sync tests change row by row."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import duckdb

from safemirror.config import ProjectConfig

TINY_SCHEMA = """
CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL, country TEXT,
                    created_at TIMESTAMP, updated_at TIMESTAMP, deleted_at TIMESTAMP);
CREATE TABLE devices (id BIGINT PRIMARY KEY, user_id BIGINT REFERENCES users(id),
                      nickname TEXT, model TEXT, updated_at TIMESTAMP, deleted_at TIMESTAMP);
"""

TINY_POLICY: dict[str, Any] = {
    "version": 1,
    "tables": {
        "users": {
            "primary_key": "id",
            "cursor": "updated_at",
            "delete_marker": "deleted_at",
            "columns": {
                "id": {"action": "pseudonymize", "domain": "user", "type": "bigint"},
                "email": {"action": "secret", "type": "text"},
                "country": {"action": "keep", "type": "text"},
                "created_at": {"action": "generalize", "truncate": "day", "type": "timestamp"},
                "updated_at": {"action": "keep", "type": "timestamp"},
                "deleted_at": {"action": "drop", "type": "timestamp"},
            },
        },
        "devices": {
            "primary_key": "id",
            "cursor": "updated_at",
            "delete_marker": "deleted_at",
            "columns": {
                "id": {"action": "pseudonymize", "domain": "device", "type": "bigint"},
                "user_id": {"action": "pseudonymize", "domain": "user", "type": "bigint"},
                "nickname": {"action": "drop", "type": "text"},
                "model": {"action": "keep", "type": "text"},
                "updated_at": {"action": "keep", "type": "timestamp"},
                "deleted_at": {"action": "drop", "type": "timestamp"},
            },
        },
    },
}


def kept_table(key: str = "id", cursor: str = "updated_at", **types: str) -> dict[str, Any]:
    """A table policy keyed on ``key``, read incrementally by ``cursor``, that keeps every
    column given (column name = its logical type)."""
    columns = {name: {"action": "keep", "type": kind} for name, kind in types.items()}
    return {"primary_key": key, "cursor": cursor, "columns": columns}


def stamp(day: int, hour: int = 12) -> str:
    return f"2025-01-{day:02d} {hour:02d}:00:00.000000"


class TinyProduction:
    """A small SQLite production database the tests change row by row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self.connect() as con:
            con.executescript(TINY_SCHEMA)
            for i in range(1, 21):
                con.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?, NULL)",
                    (
                        i,
                        f"person{i}@example.org",
                        "US" if i % 3 else "DE",
                        stamp(1 + i % 9, 8),
                        stamp(1 + i % 9, 8),
                    ),
                )
                con.execute(
                    "INSERT INTO devices VALUES (?, ?, ?, ?, ?, NULL)",
                    (100 + i, i, f"Nursery of person {i}", "Cam Pro 2", stamp(2)),
                )

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self.connect() as con:
            con.execute(sql, params)


def rows(config: ProjectConfig, sql: str) -> list[tuple[object, ...]]:
    """What ``sql`` returns from the project's mirror (opened read-only)."""
    con = duckdb.connect(str(config.mirror), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

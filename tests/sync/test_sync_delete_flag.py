"""A delete marker may be a flag (``is_deleted``): rows leave while it is true."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safemirror.config import ProjectConfig
from safemirror.sync.run import run_sync
from tests.sync.tiny import kept_table, rows, stamp

MakeProject = Callable[..., ProjectConfig]


def test_a_flag_marks_rows_deleted_only_while_true(
    tmp_path: Path, make_project: MakeProject
) -> None:
    db = tmp_path / "flags.db"
    with sqlite3.connect(db) as con:
        con.execute(
            "CREATE TABLE items (id BIGINT PRIMARY KEY, is_deleted BOOLEAN, updated_at TIMESTAMP)"
        )
        con.executemany(
            "INSERT INTO items VALUES (?, ?, ?)",
            [(1, 0, stamp(1)), (2, 1, stamp(1)), (3, None, stamp(1))],
        )
    policy: dict[str, Any] = {
        "version": 1,
        "tables": {
            "items": {
                **kept_table(id="bigint", is_deleted="boolean", updated_at="timestamp"),
                "delete_marker": "is_deleted",
            }
        },
    }
    project = make_project(f"sqlite:///{db}", policy)
    run_sync(project)
    assert rows(project, "SELECT id FROM items ORDER BY id") == [(1,), (3,)]
    with sqlite3.connect(db) as con:
        con.execute("UPDATE items SET is_deleted = 1, updated_at = ? WHERE id = 1", (stamp(2),))
        con.execute("UPDATE items SET is_deleted = 0, updated_at = ? WHERE id = 2", (stamp(2),))
    result = run_sync(project)
    assert result.tables["items"].rows_left == 1
    assert rows(project, "SELECT id FROM items ORDER BY id") == [(2,), (3,)]

"""A watermark is a production value (the greatest cursor a run read): the mirror keeps it
sealed with the key, never in clear, and a run under the mirror's key reads it back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from safemirror.config import ProjectConfig
from safemirror.errors import SourceError
from safemirror.keys import load_key
from safemirror.mirror.manifest import encode_watermark
from safemirror.mirror.watermark_seal import seal, unseal
from safemirror.sync.run import run_sync
from tests.conftest import sqlite_db
from tests.sync.tiny import file_digest

MakeProject = Callable[..., ProjectConfig]

SECRET_REF = "zed.secret@example.com"
POLICY: dict[str, Any] = {
    "version": 1,
    "tables": {
        "tickets": {
            "primary_key": "ref",
            "cursor": "ref",
            "columns": {
                "ref": {"action": "pseudonymize", "domain": "ticket", "type": "text"},
                "amount": {"action": "keep", "type": "bigint"},
            },
        }
    },
}


def _source(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "production.db"
    url = sqlite_db(
        path,
        "CREATE TABLE tickets (ref TEXT PRIMARY KEY, amount INTEGER)",
        f"INSERT INTO tickets VALUES ('abe@example.com', 1), ('{SECRET_REF}', 2)",
    )
    return path, url


def _state(project: ProjectConfig) -> list[tuple[str, str]]:
    con = duckdb.connect(str(project.mirror), read_only=True)
    try:
        found = con.execute("SELECT table_name, watermark::VARCHAR FROM _sm_state").fetchall()
    finally:
        con.close()
    return [(str(t), str(w)) for t, w in found]


def test_the_mirror_keeps_no_cursor_value_in_clear(
    tmp_path: Path, make_project: MakeProject
) -> None:
    path, url = _source(tmp_path)
    project = make_project(url, POLICY)
    run_sync(project)
    ((table, stored),) = _state(project)
    assert table == "tickets" and "sealed" in stored
    assert "example.com" not in stored and "zed" not in stored
    # the next run reads from the sealed watermark: only the row at it and the new one
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO tickets VALUES ('zz.new@example.com', 3)")
    result = run_sync(project)
    assert result.tables["tickets"].rows_read == 2
    assert result.tables["tickets"].rows_in_mirror == 3
    assert "example.com" not in _state(project)[0][1]


def test_a_record_an_older_mirror_kept_in_clear_is_read_then_sealed(
    tmp_path: Path, make_project: MakeProject
) -> None:
    _, url = _source(tmp_path)
    project = make_project(url, POLICY)
    run_sync(project)
    con = duckdb.connect(str(project.mirror))
    con.execute("UPDATE _sm_state SET watermark = ?", [encode_watermark(SECRET_REF)])
    con.close()
    assert run_sync(project).tables["tickets"].rows_read == 1  # the row at the mark
    assert "example.com" not in _state(project)[0][1]


@pytest.mark.parametrize("damage", ["edited", "moved"])
def test_a_damaged_sealed_record_is_refused_and_full_rebuilds(
    tmp_path: Path, make_project: MakeProject, damage: str
) -> None:
    _, url = _source(tmp_path)
    project = make_project(url, POLICY)
    run_sync(project)
    record = _state(project)[0][1]
    if damage == "edited":  # one character of the sealed text changed
        at = record.index('"sealed": "') + 12
        record = record[:at] + ("A" if record[at] != "A" else "B") + record[at + 1 :]
    else:  # another table's watermark, sealed with the mirror's key
        key = load_key(project.key, project.base_dir)
        record = seal(key, "users", encode_watermark(SECRET_REF))
    con = duckdb.connect(str(project.mirror))
    con.execute("UPDATE _sm_state SET watermark = ?", [record])
    con.close()
    digest = file_digest(project.mirror)
    with pytest.raises(SourceError, match="watermark record is damaged") as caught:
        run_sync(project)
    assert SECRET_REF not in str(caught.value) and file_digest(project.mirror) == digest
    assert run_sync(project, full=True).tables["tickets"].rows_in_mirror == 2
    assert "sealed" in _state(project)[0][1]


def test_sealing_is_bound_to_the_key_and_the_table() -> None:
    key, other = bytes(range(32)), bytes(range(1, 33))
    record = encode_watermark(SECRET_REF, (3, 9))
    sealed = seal(key, "tickets", record)
    assert seal(key, "tickets", record) == sealed  # deterministic: an unchanged mark stays
    assert unseal(key, "tickets", sealed) == record
    for wrong_key, table in ((other, "tickets"), (key, "users")):
        with pytest.raises(SourceError, match="damaged"):
            unseal(wrong_key, table, sealed)

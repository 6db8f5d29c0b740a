"""Incremental tables written at once, each in a transaction of its own on the private copy."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

import safemirror.sync.writes as writes_module
from safemirror.config import ProjectConfig, source_url
from safemirror.errors import LeakError, SourceError
from safemirror.mirror.workspace import MirrorWorkspace
from safemirror.sources.registry import open_source
from safemirror.sync.run import run_sync
from safemirror.verify import verify_connection
from tests.sync.tiny import TinyProduction, file_digest, stamp

MakeProject = Callable[..., ProjectConfig]


def _change(tiny: TinyProduction, day: int) -> None:
    """Updates, a soft delete and an insert in both tables."""
    tiny.execute("UPDATE users SET country = 'CA', updated_at = ? WHERE id = 2", (stamp(day),))
    tiny.execute(
        "UPDATE users SET deleted_at = ?, updated_at = ? WHERE id = 3", (stamp(day), stamp(day))
    )
    tiny.execute("UPDATE devices SET model = 'X9', updated_at = ? WHERE id = 101", (stamp(day),))
    tiny.execute(
        "INSERT INTO devices (id, user_id, nickname, model, updated_at) "
        f"VALUES ({900 + day}, 1, 'new', 'M1', ?)",
        (stamp(day),),
    )


def _content(project: ProjectConfig) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the mirror, entry and exit times and run records left out."""
    con = duckdb.connect(str(project.mirror), read_only=True)
    try:
        return {
            "users": con.execute(
                "SELECT * EXCLUDE (_sm_entered_at) FROM users ORDER BY ALL"
            ).fetchall(),
            "devices": con.execute(
                "SELECT * EXCLUDE (_sm_entered_at) FROM devices ORDER BY ALL"
            ).fetchall(),
            "history": con.execute(
                "SELECT table_name, row_key FROM _sm_history ORDER BY ALL"
            ).fetchall(),
            "counts": con.execute("SELECT * FROM _sm_text_counts ORDER BY ALL").fetchall(),
            "state": con.execute(
                "SELECT table_name, watermark, table_policy_hash FROM _sm_state ORDER BY ALL"
            ).fetchall(),
        }
    finally:
        con.close()


def _three_runs(tiny: TinyProduction, make_project: MakeProject, name: str) -> ProjectConfig:
    project = make_project(f"sqlite:///{tiny.path}", mirror=f"{name}/mirror.duckdb")
    run_sync(project)
    _change(tiny, 20)
    run_sync(project)
    run_sync(project)  # nothing changed
    return project


def test_tables_written_at_once_or_one_by_one_give_the_same_mirror(
    tiny: TinyProduction, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    parallel = writes_module._write_parallel

    def spy(*args: Any) -> Any:
        started.append("parallel")
        return parallel(*args)

    monkeypatch.setattr(writes_module, "_write_parallel", spy)
    backup = tiny.path.read_bytes()
    at_once = _three_runs(tiny, make_project, "a")
    assert started == ["parallel", "parallel"]  # both incremental runs
    tiny.path.write_bytes(backup)
    monkeypatch.setattr(writes_module, "WRITERS", 1)
    one_by_one = _three_runs(tiny, make_project, "b")
    assert started == ["parallel", "parallel"]
    assert _content(at_once) == _content(one_by_one)
    source = open_source(source_url(at_once))
    con = duckdb.connect(str(at_once.mirror), read_only=True)
    try:
        assert verify_connection(con, source, at_once.policy, source.tables()).ok
    finally:
        con.close()
        source.close()
    assert not list(at_once.mirror.parent.glob("*.wal"))  # everything folded into the file


def test_a_failing_writer_stops_the_run_and_leaves_the_mirror(
    tiny: TinyProduction, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(f"sqlite:///{tiny.path}")
    run_sync(project)
    digest = file_digest(project.mirror)
    _change(tiny, 20)
    write_table = writes_module.write_table

    def failing(con: duckdb.DuckDBPyConnection, table: str, *args: Any, **kwargs: Any) -> Any:
        if table == "devices":
            raise SourceError("writing devices failed")
        return write_table(con, table, *args, **kwargs)

    monkeypatch.setattr(writes_module, "write_table", failing)
    with pytest.raises(SourceError, match="writing devices failed"):
        run_sync(project)
    assert file_digest(project.mirror) == digest
    assert not [t for t in threading.enumerate() if t.name.startswith("safemirror-write")]
    assert list(project.mirror.parent.glob(f".{project.mirror.name}.sync-*")) == []
    monkeypatch.setattr(writes_module, "write_table", write_table)
    run_sync(project)  # the next run completes it
    con = duckdb.connect(str(project.mirror), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM devices WHERE model = 'X9'").fetchall() == [(1,)]
    finally:
        con.close()


class _LeavesALog:
    """A connection that, once closed, leaves a write-ahead log beside its file."""

    def __init__(self, inner: duckdb.DuckDBPyConnection, log: Path) -> None:
        self._inner, self._log = inner, log

    def execute(self, *args: Any) -> Any:
        return self._inner.execute(*args)

    def close(self) -> None:
        self._inner.close()
        self._log.write_bytes(b"not folded in")


def test_publish_refuses_a_copy_whose_log_was_not_folded_in(tmp_path: Path) -> None:
    target = tmp_path / "mirror.duckdb"
    with MirrorWorkspace(target) as ws:
        con = ws.open()
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
        ws._con = _LeavesALog(con, ws.work.with_name(ws.work.name + ".wal"))  # type: ignore[assignment]
        with pytest.raises(SourceError, match="not written out completely"):
            ws.publish()
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != ".mirror.duckdb.lock"] == []


def test_a_leak_found_while_the_copy_is_committed_publishes_nothing(
    tiny: TinyProduction, make_project: MakeProject
) -> None:
    project = make_project(f"sqlite:///{tiny.path}")
    run_sync(project)
    _change(tiny, 20)
    run_sync(project)  # its copy goes through the writers; the next run's will too
    before = file_digest(project.mirror)
    # A kept column now holds a user's email: verify must stop the incremental run.
    tiny.execute(
        "UPDATE devices SET model = 'person4@example.org', updated_at = ? WHERE id = 105",
        (stamp(21),),
    )
    with pytest.raises(LeakError, match=r"devices\.model"):
        run_sync(project)
    assert file_digest(project.mirror) == before
    assert list(project.mirror.parent.glob(f".{project.mirror.name}.sync-*")) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("safemirror-verify")]

"""The overlapped run: read-ahead failures, background threads, compaction, verify's counts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from types import SimpleNamespace
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import safemirror.mirror.tables as tables_module
import safemirror.sync.run as run_module
from safemirror.audit import AuditLog
from safemirror.config import ProjectConfig, source_url
from safemirror.errors import SourceError
from safemirror.mirror.manifest import read_state
from safemirror.mirror.tables import mirror_layout
from safemirror.mirror.workspace import MirrorWorkspace
from safemirror.sources.base import Source
from safemirror.sources.registry import open_source
from safemirror.sync.feed import FeedQueue, TableFeed
from safemirror.sync.run import run_sync
from safemirror.sync.stream import ReadAhead
from safemirror.verify import TextValues, count_text_values, verify_connection
from tests.sync.tiny import TinyProduction, file_digest, stamp

MakeProject = Callable[..., ProjectConfig]


@pytest.fixture
def project(tiny: TinyProduction, make_project: MakeProject) -> ProjectConfig:
    return make_project(f"sqlite:///{tiny.path}")


class FailingReads:
    """A source whose reads of one table fail after ``after`` batches."""

    def __init__(self, inner: Source, table: str, after: int = 0) -> None:
        self._inner, self._table, self._after = inner, table, after

    def read(self, table: str, *args: Any, **kwargs: Any) -> Iterator[pa.RecordBatch]:
        batches = self._inner.read(table, *args, **kwargs)
        if table != self._table:
            return batches

        def failing() -> Iterator[pa.RecordBatch]:
            for n, batch in enumerate(batches):
                if n >= self._after:
                    raise SourceError(f"reading table {table!r} failed: connection lost")
                yield batch
            raise SourceError(f"reading table {table!r} failed: connection lost")

        return failing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _read_threads() -> list[threading.Thread]:
    """Threads a run starts: read-ahead, the mirror's opening, the copy's flush, writers."""
    names = ("safemirror-read", "safemirror-open", "safemirror-flush", "safemirror-write")
    return [t for t in threading.enumerate() if t.name.startswith(names)]


@pytest.mark.parametrize("table", ["users", "devices"])
def test_a_failing_read_ahead_stops_the_run_and_leaves_the_mirror(
    project: ProjectConfig, tiny: TinyProduction, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sync(project)
    digest = file_digest(project.mirror)
    tiny.execute("UPDATE users SET country = 'CA', updated_at = ? WHERE id = 2", (stamp(20),))
    tiny.execute("UPDATE devices SET updated_at = ? WHERE id = 101", (stamp(20),))
    monkeypatch.setattr(
        run_module, "open_source", lambda url: FailingReads(open_source(url), table)
    )
    with pytest.raises(SourceError, match="connection lost"):
        run_sync(project)
    assert file_digest(project.mirror) == digest
    deadline = time.monotonic() + 5
    while _read_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _read_threads()
    leftovers = list(project.mirror.parent.glob(f".{project.mirror.name}.sync-*"))
    assert leftovers == []


def test_compaction_every_nth_run_after_a_full_one(
    project: ProjectConfig, tiny: TinyProduction, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    publish = MirrorWorkspace.publish

    def spy(self: MirrorWorkspace, *, compact: bool = True, **kwargs: Any) -> None:
        calls.append(compact)
        publish(self, compact=compact, **kwargs)

    monkeypatch.setattr(MirrorWorkspace, "publish", spy)
    monkeypatch.setattr(run_module, "COMPACT_EVERY", 3)
    run_sync(project)  # full: compacts
    for _ in range(4):
        run_sync(project)
    assert read_state(project.mirror).runs_since_full == 4
    run_sync(project, full=True)
    assert read_state(project.mirror).runs_since_full == 0
    assert calls == [True, False, False, True, False, True]


def test_verify_counts_taken_while_writing_match_a_fresh_count(project: ProjectConfig) -> None:
    source = open_source(source_url(project))
    try:
        con = duckdb.connect()  # a mirror with a leaked email and an ordinary column
        con.execute("CREATE TABLE devices AS SELECT 'grace@example.org' AS model, 1 AS id")
        con.execute("CREATE TABLE users AS SELECT 'DE' AS country, 1 AS id")
        layout = mirror_layout(con)
        counted: TextValues = {}
        for table, columns in layout.items():
            text = [c for c, t in columns if t == "VARCHAR"]
            counted.update(count_text_values(con, table, text))
        live = source.tables()
        fresh = verify_connection(con, source, project.policy, live)
        reused = verify_connection(con, source, project.policy, live, counted)
    finally:
        source.close()
    assert fresh.findings == reused.findings
    assert any(f.origin == "detector:email" for f in fresh.findings)
    assert (fresh.mirror_columns, fresh.mirror_values) == (
        reused.mirror_columns,
        reused.mirror_values,
    )


def test_read_ahead_closed_early_stops_its_thread_and_cleans_up() -> None:
    cleaned = threading.Event()
    batch = pa.record_batch({"x": [1]})

    def endless() -> Iterator[pa.RecordBatch]:
        try:
            while True:
                yield batch
        finally:
            cleaned.set()

    ahead = ReadAhead(endless(), depth=2)
    first = next(iter(ahead))
    assert first.equals(batch)
    ahead.close()
    assert cleaned.wait(5)
    assert not ahead._worker.is_alive()


def test_read_ahead_hands_errors_to_the_consumer() -> None:
    def broken() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch({"x": [1]})
        raise SourceError("gone")

    with pytest.raises(SourceError, match="gone"):
        list(ReadAhead(broken()))


def _incremental_content(
    tiny: TinyProduction, make_project: MakeProject, tmp_dir: str
) -> list[tuple[object, ...]]:
    project = make_project(f"sqlite:///{tiny.path}", mirror=f"{tmp_dir}/mirror.duckdb")
    run_sync(project)
    tiny.execute("UPDATE users SET country = 'CA', updated_at = ? WHERE id = 2", (stamp(20),))
    tiny.execute(
        "UPDATE users SET deleted_at = ?, updated_at = ? WHERE id = 3", (stamp(20), stamp(20))
    )
    run_sync(project)
    con = duckdb.connect(str(project.mirror), read_only=True)
    try:
        users = con.execute("SELECT * EXCLUDE (_sm_entered_at) FROM users ORDER BY ALL")
        rows = users.fetchall()
        left = con.execute("SELECT count(*) FROM _sm_history").fetchall()
        return [*rows, *left]
    finally:
        con.close()


def test_staging_in_memory_or_in_a_temporary_table_gives_the_same_mirror(
    tiny: TinyProduction, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory = _incremental_content(tiny, make_project, "a")
    tiny.execute("UPDATE users SET country = 'DE', updated_at = ? WHERE id = 2", (stamp(10),))
    tiny.execute("UPDATE users SET deleted_at = NULL, updated_at = ? WHERE id = 3", (stamp(10),))
    monkeypatch.setattr(tables_module, "STAGE_IN_MEMORY", 1)  # every stage goes to DuckDB
    in_duckdb = _incremental_content(tiny, make_project, "b")
    assert in_memory == in_duckdb


def test_a_stage_of_wide_rows_goes_to_duckdb_by_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Few rows of big values (blobs, long text) are staged in DuckDB, which spills to
    disk, not held in memory: a --full run of a table of large blobs held them all."""
    monkeypatch.setattr(tables_module, "STAGE_IN_MEMORY_BYTES", 64 << 10)
    value = pa.array([b"x" * 4096] * 8, pa.binary())
    batch = pa.record_batch({"doc": value, "_sm_deleted": pa.array([False] * 8)})
    con = duckdb.connect()
    try:
        wide = pa.RecordBatchReader.from_batches(batch.schema, [batch] * 4)
        rows, held = tables_module._stage(con, wide)
        assert (rows, held) == (32, None) and batch.nbytes * 4 > 64 << 10
        assert con.execute("SELECT count(*) FROM _sm_stage").fetchall() == [(32,)]
        narrow = pa.RecordBatchReader.from_batches(batch.schema, [batch])
        rows, held = tables_module._stage(con, narrow)
        assert rows == 8 and held is not None and held.num_rows == 8
    finally:
        con.close()


class _FakeFeed:
    def __init__(self, name: str, log: list[str], read_ended: Callable[[], None]) -> None:
        self.name, self.log, self.read_ended = name, log, read_ended
        log.append(f"start {name}")

    def close(self) -> None:
        self.log.append(f"close {self.name}")


def _queue(log: list[str], ahead: int, streams: int | None = None) -> FeedQueue:
    plans: list[Any] = [type("Plan", (), {"name": n})() for n in "abcd"]
    return FeedQueue(
        lambda plan, ended: _FakeFeed(plan.name, log, ended),  # type: ignore[arg-type, return-value]
        plans,
        ahead,
        streams,
    )


def test_feed_queue_keeps_a_fixed_number_of_tables_reading_ahead() -> None:
    log: list[str] = []
    with closing(_queue(log, 2)) as feeds:
        assert log == ["start a", "start b"]
        first = feeds.next()
        assert first.name == "a" and log[-1] == "start c"  # type: ignore[attr-defined]
        assert feeds.next().name == "b" and log[-1] == "start d"  # type: ignore[attr-defined]
        assert feeds.next().name == "c" and len(log) == 4  # type: ignore[attr-defined]
    assert sorted(x for x in log if x.startswith("close")) == [f"close {n}" for n in "abcd"]


def test_feed_queue_bounds_the_reads_open_at_once() -> None:
    log: list[str] = []
    with closing(_queue(log, 2, streams=2)) as feeds:
        a = feeds.next()
        assert log == ["start a", "start b"]  # c waits: a and b still read
        a.read_ended()  # type: ignore[attr-defined]
        a.read_ended()  # type: ignore[attr-defined]  # once is what counts
        assert log == ["start a", "start b", "start c"]
        assert feeds.next().name == "b" and len(log) == 3  # type: ignore[attr-defined]
        assert feeds.next().name == "c" and len(log) == 3  # type: ignore[attr-defined]
        assert feeds.next().name == "d" and log[-1] == "start d"  # type: ignore[attr-defined]  # needed: started
    assert sorted(x for x in log if x.startswith("close")) == [f"close {n}" for n in "abcd"]


def test_a_feed_that_fails_to_start_after_a_read_fails_where_it_is_needed() -> None:
    log: list[str] = []
    failing = {"c"}

    def start(plan: Any, ended: Callable[[], None]) -> _FakeFeed:
        if plan.name in failing:
            failing.discard(plan.name)  # fails once, in the thread whose read ended
            raise RuntimeError(f"cannot start {plan.name}")
        return _FakeFeed(plan.name, log, ended)

    plans: list[Any] = [type("Plan", (), {"name": n})() for n in "abcd"]
    with closing(FeedQueue(start, plans, 2, streams=2)) as feeds:  # type: ignore[arg-type]
        a = feeds.next()
        a.read_ended()  # type: ignore[attr-defined]  # starting c fails here: c keeps its place
        assert log == ["start a", "start b"]
        assert feeds.next().name == "b"  # type: ignore[attr-defined]
        assert feeds.next().name == "c"  # type: ignore[attr-defined]  # started where needed
        assert feeds.next().name == "d"  # type: ignore[attr-defined]


def test_a_feed_that_cannot_start_raises_where_it_is_needed() -> None:
    log: list[str] = []

    def start(plan: Any, ended: Callable[[], None]) -> _FakeFeed:
        if plan.name == "c":
            raise RuntimeError("cannot start c")
        return _FakeFeed(plan.name, log, ended)

    plans: list[Any] = [type("Plan", (), {"name": n})() for n in "abcd"]
    with closing(FeedQueue(start, plans, 2, streams=2)) as feeds:  # type: ignore[arg-type]
        feeds.next().read_ended()  # type: ignore[attr-defined]
        assert feeds.next().name == "b"  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError, match="cannot start c"):
            feeds.next()


class _ListSource:
    """A source of one table whose read yields ``batches``."""

    def __init__(self, batches: list[pa.RecordBatch]) -> None:
        self.batches = batches
        self.schema = pa.schema([("id", pa.int64()), ("email", pa.string())])

    def schema_of(self, table: str, columns: list[str]) -> pa.Schema:
        return self.schema

    def read(self, table: str, columns: list[str], **kwargs: Any) -> Iterator[pa.RecordBatch]:
        return iter(self.batches)


def _feed(source: _ListSource, lock: threading.Lock, ended: Callable[[], None]) -> TableFeed:
    plan: Any = SimpleNamespace(
        name="users",
        select=["id", "email"],
        since=None,
        read_since=None,
        incremental=False,
        skip_versions=(),
        read_skips=(),
        policy=SimpleNamespace(primary_key=["id"], cursor=[], delete_marker=None),
    )

    def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
        return batch.drop_columns(["email"])  # stands in for the table's transform

    return TableFeed(
        source,  # type: ignore[arg-type]
        plan,
        transform,  # type: ignore[arg-type]
        batch_rows=100,
        lock=lock,
        read_ended=ended,
    )


def test_starting_a_feed_does_not_wait_for_the_transforms_lock() -> None:
    rows = pa.RecordBatch.from_pydict({"id": [1, 2], "email": ["a@x.io", "b@x.io"]})
    lock, ended = threading.Lock(), threading.Event()
    started: list[TableFeed] = []
    with lock:  # another feed's transform, for as long as it takes
        starting = threading.Thread(
            target=lambda: started.append(_feed(_ListSource([rows]), lock, ended.set))
        )
        starting.start()
        starting.join(timeout=5)
        assert started, "starting a feed waited for the transforms' lock"
    with closing(started[0]) as feed:  # the lock is free: its rows come through
        schema, batches = feed.batches()
        assert schema.names == ["id", "_sm_deleted"]
        assert [b.to_pydict() for b in batches] == [{"id": [1, 2], "_sm_deleted": [False, False]}]
        assert ended.wait(timeout=5)


def test_a_feed_with_no_rows_still_gives_the_mirror_schema() -> None:
    with closing(_feed(_ListSource([]), threading.Lock(), lambda: None)) as feed:
        schema, batches = feed.batches()
        assert schema == pa.schema([("id", pa.int64()), ("_sm_deleted", pa.bool_())])
        assert list(batches) == []


def test_the_run_time_shown_and_audited_includes_verify(
    project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verify runs beside the commit and may end after it: the time a run reports (on
    the terminal and in the audit log) ends when the new mirror is published."""
    check, write_run = run_module.check_mirror_text, run_module.write_run
    written = threading.Event()

    def write_and_say(*args: Any) -> None:
        write_run(*args)
        written.set()

    def slow_check(*args: Any) -> Any:
        report = check(*args)
        assert written.wait(30), "the manifest was never written"
        time.sleep(0.5)  # verify still busy after the manifest's clock stopped
        return report

    monkeypatch.setattr(run_module, "write_run", write_and_say)
    monkeypatch.setattr(run_module, "check_mirror_text", slow_check)
    result = run_sync(project)
    assert result.elapsed_s >= result.manifest.duration_s + 0.5
    entry = list(AuditLog(project.audit_log).entries())[-1]
    assert entry.kind == "sync"
    assert entry.data["elapsed_s"] == round(result.elapsed_s, 3)
    assert entry.data["duration_s"] == round(result.manifest.duration_s, 3)

"""Run a sync end to end: key → plan → stream and transform → mirror → verify → publish.

The steps overlap where they can: the live mirror is copied and opened in a background
thread while the source is connected to, and each table's rows are read and transformed
ahead while the table before is written.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import duckdb

from safemirror import stopping
from safemirror.audit import AuditLog
from safemirror.config import ProjectConfig, source_url
from safemirror.errors import ExitCode, LeakError, SafemirrorError, SourceError, Terminated
from safemirror.keys import fingerprint, load_key
from safemirror.mirror import textcounts
from safemirror.mirror.manifest import (
    RunManifest,
    unreadable,
    write_run,
    write_watermarks,
)
from safemirror.mirror.tables import Layout, TableOutcome, drop_unlisted
from safemirror.mirror.workspace import MirrorWorkspace
from safemirror.policy.check import check_policy
from safemirror.policy.model import TablePolicy
from safemirror.sources.base import HasNotes, MarksAtOnce, OpensStreams, Source
from safemirror.sources.registry import open_source
from safemirror.sync import categories
from safemirror.sync.categories import Allowed
from safemirror.sync.feed import FeedQueue, TableFeed
from safemirror.sync.plan import TablePlan, make_plan, schema_snapshot
from safemirror.sync.view import MirrorView, read_view
from safemirror.sync.writes import Progress, WriteContext, write_all
from safemirror.transforms.apply import TableTransform
from safemirror.transforms.registry import TransformContext
from safemirror.verify import TextValues, VerifyReport, check_mirror_text, read_mirror_text

READ_AHEAD = 2  # tables read and transformed ahead of the one being written
INCREMENTAL_STREAMS = 2  # source reads open at once when every table is incremental
MAX_VERSIONS = 1000  # row versions recorded with a watermark at most (see sources.pg_sql)
COMPACT_EVERY = 16  # every so many runs after a full one, the publish merges sparse row groups


@dataclass
class SyncResult:
    manifest: RunManifest
    tables: dict[str, TableOutcome]
    verify: VerifyReport
    notes: list[str] = field(default_factory=list)  # caveats for the user (``HasNotes``)
    # Seconds from the start until the new mirror was published. The manifest's duration
    # ends when the copy is committed: verify, which runs alongside, may finish later.
    elapsed_s: float = 0.0


@dataclass
class _Run:
    """What one run carries from step to step."""

    config: ProjectConfig
    source: Source
    ws: MirrorWorkspace
    key: bytes
    key_fp: str
    full: bool
    run_id: str
    started: datetime
    t0: float
    progress: Progress | None
    batch_rows: int


def _cursor_marks(source: Source, tables: Mapping[str, TablePolicy]) -> dict[str, Any]:
    """Each table's greatest cursor value now. Taken before any read, so rows changed
    meanwhile are read again next time."""
    if isinstance(source, MarksAtOnce):
        cursors = {name: policy.cursor for name, policy in tables.items() if policy.cursor}
        return {name: None for name in tables} | source.max_cursors(cursors)
    return {
        name: source.max_cursor(name, policy.cursor) if policy.cursor else None
        for name, policy in tables.items()
    }


def _watermark(plan: TablePlan, mark: Any, read: set[int]) -> tuple[Any, tuple[int, ...]]:
    """What a run records for ``plan``'s table: its mark, and the versions of the rows at
    the mark that it read (``read``) or that the run before read at the same mark. Only
    when the read covered the mark: a watermark that went back keeps no versions. A
    table now empty keeps the watermark it had."""
    if mark is None:
        return (plan.since, plan.skip_versions) if plan.incremental else (None, ())
    if plan.since is not None:
        try:
            covered = bool(mark >= plan.since)
        except TypeError:  # a cursor of another type now: nothing is known
            covered = False
        if not covered:
            return mark, ()
        if mark == plan.since:
            read = read | set(plan.skip_versions)  # left out of this read: read before
    return mark, tuple(sorted(read)[:MAX_VERSIONS])


def _open_and_read(ws: MirrorWorkspace, fresh: bool) -> MirrorView:
    """Open the working mirror (a copy, or a fresh file for a full run), and read what
    the live one holds (run in the background)."""
    con = ws.open(fresh=fresh)
    try:
        return read_view(con, ws.previous)
    except duckdb.Error as exc:  # it opens, but its blocks do not read
        raise unreadable(ws.target, exc) from None


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for the run: the run's objects die by reference
    count, and each collection would walk the (large) pseudonym caches for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_sync(
    config: ProjectConfig,
    *,
    full: bool = False,
    progress: Progress | None = None,
    batch_rows: int = 131_072,
) -> SyncResult:
    """Run one sync; on any failure the live mirror is untouched and the audit log says why."""
    audit = AuditLog(config.audit_log)
    audit.check_appendable()  # a run its log could not record does not start
    started, t0 = datetime.now(UTC).replace(tzinfo=None), time.perf_counter()
    run_id = uuid.uuid4().hex
    display = "(unresolved)"
    try:
        key = load_key(config.key, config.base_dir)
        key_fp = fingerprint(key)
        with (
            _cyclic_gc_paused(),
            MirrorWorkspace(config.mirror) as ws,
            ThreadPoolExecutor(1, thread_name_prefix="safemirror-open") as pool,
        ):
            # The working copy is made and read in the background while the source is
            # connected to. Leaving the pool waits for it, before the workspace cleans up.
            opening = pool.submit(_open_and_read, ws, full)
            source = open_source(source_url(config))
            display = source.display_url
            try:
                run = _Run(
                    config, source, ws, key, key_fp, full, run_id, started, t0, progress, batch_rows
                )
                result = _run(run, opening)
            finally:
                source.close()
    except BaseException as exc:
        stop = stopping.requested()  # a stop DuckDB may have turned into an error of its own
        failed = {"run_id": run_id, "source": display, "full": full, **_failure(stop or exc)}
        if isinstance(exc, SafemirrorError) and stop is None:
            audit.append("sync.failed", failed)  # a log that cannot take it says so
        else:
            with contextlib.suppress(Exception):  # the stop or the cause is what is raised
                audit.append("sync.failed", failed)
        if stop is not None and exc is not stop:
            raise stop from None
        if isinstance(exc, duckdb.Error):  # the terminal shows DuckDB's words; the log not
            raise SourceError(
                f"DuckDB could not read or write the mirror {config.mirror}: {exc}",
                hint="nothing was published and the live mirror is as it was; if it is "
                "corrupt, move it away and run 'safemirror sync --full'",
            ) from None
        if isinstance(exc, OSError):  # the mirror's files: its directory, lock, copy
            where = f" ({exc.filename})" if exc.filename else ""
            raise SourceError(
                f"the mirror {config.mirror} could not be written: {exc.strerror or exc}{where}",
                hint="nothing was published; check that the mirror's directory exists, is "
                "writable by this user and has room",
            ) from None
        raise
    result.elapsed_s = time.perf_counter() - t0
    summary = {**result.manifest.summary(), "elapsed_s": round(result.elapsed_s, 3)}
    audit.append("sync", {**summary, "notes": result.notes} if result.notes else summary)
    return result


def _failure(exc: BaseException) -> dict[str, Any]:
    """What the audit log keeps of a failed run: the error and the exit code. Only
    safemirror's own messages are kept whole; another error's text may quote a value
    the run was reading, so only its kind is (the terminal shows the rest)."""
    if isinstance(exc, SafemirrorError):
        return {"error": exc.message, "exit_code": exc.exit_code}
    if isinstance(exc, KeyboardInterrupt):
        return {"error": "interrupted", "exit_code": ExitCode.INTERRUPTED}
    if isinstance(exc, Terminated):
        return {"error": "terminated", "exit_code": ExitCode.TERMINATED}
    if isinstance(exc, duckdb.Error):
        return {"error": f"DuckDB {type(exc).__name__}", "exit_code": ExitCode.SOURCE}
    if isinstance(exc, OSError):
        what = f"{type(exc).__name__}: {exc.strerror}" if exc.strerror else type(exc).__name__
        return {"error": what, "exit_code": ExitCode.SOURCE}
    return {"error": f"unexpected {type(exc).__name__}", "exit_code": ExitCode.FAILURE}


def _write_tables(
    run: _Run,
    plans: list[TablePlan],
    view: MirrorView,
    feeds: FeedQueue,
    marks: dict[str, Any],
) -> tuple[dict[str, TableOutcome], TextValues]:
    """Write every planned table from its feed (the next ones read ahead meanwhile); the
    outcomes, and the text-value counts of the written tables (for verify)."""
    con, state = run.ws.con, view.state
    ctx = WriteContext(
        view=view,
        run_ts=run.started,
        old_fingerprint=state.last_run.key_fingerprint if state.last_run else None,
        previous=run.ws.previous,
        progress=run.progress,
        # The running text counts are checked against the tables unless the live mirror
        # is still the file the last sync sealed, and on every compacting run anyway.
        check_counts=not run.ws.sealed or _compacting(state.runs_since_full),
    )
    written = write_all(con, plans, feeds, ctx)
    outcomes = {name: w.outcome for name, w in written.items()}
    counts = {name: w.counts for name, w in written.items()}
    read = feeds.versions()
    recorded = [
        (p.name, *_watermark(p, marks[p.name], read.get(p.name, set())), p.table_hash)
        for p in plans
    ]
    write_watermarks(con, recorded, run.key, run.key_fp, run.started)
    drop_unlisted(con, view.layout, {p.name for p in plans})
    textcounts.save(con, counts)
    counted = {(t, c): values for t, columns in counts.items() for c, values in columns.items()}
    return outcomes, counted


def _feeds(run: _Run, plans: list[TablePlan], allowed: Allowed, marks: dict[str, Any]) -> FeedQueue:
    """Start reading and transforming ``plans``' rows (``READ_AHEAD`` tables at a time, and
    when every table is incremental, ``INCREMENTAL_STREAMS`` reads at once); each read
    records the versions of the rows at the table's mark (see ``sources.pg_sql``)."""
    ctx = TransformContext(key=run.key, allowed_values=allowed)
    lock = threading.Lock()  # the transforms share the pseudonym caches

    def start(plan: TablePlan, read_ended: Callable[[], None]) -> TableFeed:
        transform = TableTransform(plan.name, plan.policy, ctx)
        return TableFeed(
            run.source,
            plan,
            transform,
            batch_rows=run.batch_rows,
            lock=lock,
            versions_at=marks[plan.name],
            read_ended=read_ended,
        )

    streams = INCREMENTAL_STREAMS if all(p.incremental for p in plans) else None
    return FeedQueue(start, plans, READ_AHEAD, streams)


def _present(plans: list[TablePlan], layout: Layout) -> list[TablePlan]:
    """``plans``, with any incremental table the mirror lacks (dropped by hand) read in
    full: its changes alone would not make the table."""
    return [
        p
        if not p.incremental or p.name in layout
        else replace(p, incremental=False, since=None, skip_versions=())
        for p in plans
    ]


@contextmanager
def _streams_opening(source: Source | None) -> Iterator[None]:
    """Start the source's read sessions in the background (a source that can) while the
    body runs; leaving waits for them and raises what stopped them."""
    if not isinstance(source, OpensStreams):
        yield
        return
    with ThreadPoolExecutor(1, thread_name_prefix="safemirror-sessions") as pool:
        opened = pool.submit(source.open_streams, max(READ_AHEAD, INCREMENTAL_STREAMS))
        yield
        opened.result()


def _run(run: _Run, opening: Future[MirrorView]) -> SyncResult:
    config, source = run.config, run.source
    live = source.tables()
    # While the mirror is copied: the cursor marks, and, for a run that writes every table
    # in full, the common categories counted on the source (an incremental table takes
    # them from the mirror). Not when the policy does not fit the schema: the plan below
    # then says why.
    fits = not check_policy(config.policy, live)
    tables = config.policy.mirrored_tables
    with _streams_opening(source if fits else None):  # the reads' sessions start meanwhile
        marks = _cursor_marks(source, tables) if fits else None
        counted_early = fits and (run.full or not config.mirror.exists())
        on_source = categories.count_on_source(source, tables) if counted_early else {}
    view = opening.result()  # the working copy holds the live mirror's state
    state = view.state
    if not run.full and state.last_run and state.last_run.key_fingerprint == run.key_fp:
        state.open_watermarks(run.key, run.key_fp)  # another key's mirror: the plan refuses
    plans = make_plan(
        config.policy,
        live,
        state,
        full=run.full,
        key_fingerprint=run.key_fp,
        origin=config.policy_origin,
    )
    plans = _present(plans, view.layout)
    allowed = categories.allowed_for(plans, source, run.ws.con, view.layout, view.counts, on_source)
    if marks is None:
        marks = _cursor_marks(source, {p.name: p.policy for p in plans})
    with closing(_feeds(run, plans, allowed, marks)) as feeds:  # the source is read from here
        outcomes, counted = _write_tables(run, plans, view, feeds, marks)
        uncursored = feeds.uncursored()
    notes = [_uncursored_note(p, uncursored[p.name]) for p in plans if p.name in uncursored]
    con = run.ws.con
    mirror_text = read_mirror_text(con, counted)  # what the copy will publish
    with ThreadPoolExecutor(1, thread_name_prefix="safemirror-verify") as checker:
        # Verify's checks (the source's semi-joins, the detectors) run while the copy is
        # committed and closed; the rename waits for them and happens only if they pass.
        checking = checker.submit(check_mirror_text, mirror_text, source, config.policy, live)
        manifest = RunManifest(
            run_id=run.run_id,
            started_at=run.started,
            finished_at=datetime.now(UTC).replace(tzinfo=None),
            mode="incremental" if any(p.incremental for p in plans) else "full",
            policy_hash=config.policy.digest(),
            key_fingerprint=run.key_fp,
            source=source.display_url,
            schema_snapshot=schema_snapshot(config.policy, live),
            row_counts={
                name: {
                    "read": o.rows_read,
                    "written": o.rows_written,
                    "left": o.rows_left,
                    "in_mirror": o.rows_in_mirror,
                }
                for name, o in outcomes.items()
            },
            duration_s=time.perf_counter() - run.t0,
        )
        write_run(con, manifest)
        continues = (
            state.last_run is not None
            and state.last_run.key_fingerprint == run.key_fp
            and state.last_run.policy_hash == manifest.policy_hash
            and all(p.incremental for p in plans)
        )
        compact = not continues or _compacting(state.runs_since_full)
        run.ws.publish(
            keep_spare=continues, compact=compact, before_rename=lambda: _passed(checking)
        )
    if isinstance(source, HasNotes):
        notes += source.notes()
    return SyncResult(manifest, outcomes, checking.result(), notes)


def _uncursored_note(plan: TablePlan, rows: int) -> str:
    """What to tell the user when ``rows`` of ``plan``'s table hold no cursor value."""
    return (
        f"table '{plan.name}': {rows:,} row(s) hold no value in any cursor column "
        f"({', '.join(plan.policy.cursor)}); an incremental run never reads a row like that, "
        "so rows added that way reach the mirror only with 'sync --full': add a cursor "
        "column every row holds (e.g. created_at)"
    )


def _compacting(runs_since_full: int) -> bool:
    """Whether the run after ``runs_since_full`` incremental ones is a compacting one."""
    return (runs_since_full + 1) % COMPACT_EVERY == 0


def _passed(checking: Future[VerifyReport]) -> None:
    """Wait for verify; raise unless it found nothing, or if a stop was asked for."""
    report = checking.result()
    stopping.check()  # nothing is published once a stop was asked for
    if not report.ok:
        raise LeakError(
            "verify found sensitive production values in the new mirror; it "
            "was NOT published\n" + report.describe(),
            hint="fix the policy for the columns named above, then rerun",
        )

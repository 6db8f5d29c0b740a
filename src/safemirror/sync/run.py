"""Run a sync end to end: key → plan → stream and transform → mirror → verify → publish.

The steps overlap where they can: the live mirror is copied and opened in a background
thread while the source is connected to, and each table's rows are read and transformed
ahead while the table before is written.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from safemirror.audit import AuditLog
from safemirror.config import ProjectConfig, source_url
from safemirror.errors import LeakError, SafemirrorError
from safemirror.keys import fingerprint, load_key
from safemirror.mirror import textcounts
from safemirror.mirror.manifest import (
    MirrorState,
    RunManifest,
    state_of,
    write_run,
    write_watermarks,
)
from safemirror.mirror.schema import DELETED
from safemirror.mirror.tables import Layout, TableOutcome, drop_unlisted, mirror_layout, write_table
from safemirror.mirror.workspace import MirrorWorkspace
from safemirror.policy.check import check_policy
from safemirror.policy.model import Action, TablePolicy
from safemirror.sources.base import Source
from safemirror.sources.registry import open_source
from safemirror.sync.feed import TableFeed
from safemirror.sync.plan import TablePlan, make_plan, schema_snapshot
from safemirror.sync.stream import as_reader
from safemirror.transforms.apply import TableTransform
from safemirror.transforms.registry import TransformContext
from safemirror.verify import TextValues, VerifyReport, verify_connection

Progress = Callable[[str, int], None]
READ_AHEAD = 2  # tables read and transformed ahead of the one being written
COMPACT_EVERY = 16  # every so many runs after a full one, the publish merges sparse row groups


@dataclass
class SyncResult:
    manifest: RunManifest
    tables: dict[str, TableOutcome]
    verify: VerifyReport


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


Allowed = dict[tuple[str, str], frozenset[object]]


def _allowed_values(source: Source, tables: Mapping[str, TablePolicy]) -> Allowed:
    """The values common enough to keep, per ``generalize: min_count`` column."""
    allowed: Allowed = {}
    for name, table_policy in tables.items():
        for column, spec in table_policy.columns.items():
            if spec.action is Action.GENERALIZE and spec.min_count:
                values = source.value_counts(name, column, spec.min_count)
                allowed[(name, column)] = frozenset(values)
    return allowed


def _reporter(progress: Progress | None, table: str) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda rows: progress(table, rows)


def _is_text(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


@dataclass(frozen=True)
class _Opened:
    """What the working copy says about the live mirror."""

    state: MirrorState
    layout: Layout
    counts: dict[str, textcounts.Counts]


def _open_mirror(ws: MirrorWorkspace) -> _Opened:
    """Copy and open the working mirror and read what it holds (run in the background)."""
    con = ws.open()
    layout = mirror_layout(con)
    return _Opened(state_of(con), layout, textcounts.load(con, layout))


def run_sync(
    config: ProjectConfig,
    *,
    full: bool = False,
    progress: Progress | None = None,
    batch_rows: int = 131_072,
) -> SyncResult:
    """Run one sync; on any failure the live mirror is untouched and the audit log says why."""
    audit = AuditLog(config.audit_log)
    started, t0 = datetime.now(UTC).replace(tzinfo=None), time.perf_counter()
    run_id = uuid.uuid4().hex
    display = "(unresolved)"
    try:
        key = load_key(config.key, config.base_dir)
        key_fp = fingerprint(key)
        # Leaving the pool waits for the background open, before the workspace cleans up.
        with (
            MirrorWorkspace(config.mirror) as ws,
            ThreadPoolExecutor(1, thread_name_prefix="safemirror-open") as pool,
        ):
            opening = pool.submit(_open_mirror, ws)
            source = open_source(source_url(config))
            display = source.display_url
            try:
                run = _Run(
                    config, source, ws, key, key_fp, full, run_id, started, t0, progress, batch_rows
                )
                result = _run(run, opening)
            finally:
                source.close()
    except SafemirrorError as exc:
        audit.append(
            "sync.failed",
            {
                "run_id": run_id,
                "source": display,
                "full": full,
                "error": exc.message,
                "exit_code": exc.exit_code,
            },
        )
        raise
    audit.append("sync", result.manifest.summary())
    return result


def _write_tables(
    run: _Run, plans: list[TablePlan], opened: _Opened, allowed: Allowed
) -> tuple[dict[str, TableOutcome], TextValues]:
    """Write every planned table, reading the next ones ahead while one is written; the
    outcomes, and the text-value counts of the written tables (for verify)."""
    source, con, state = run.source, run.ws.con, opened.state
    ctx = TransformContext(key=run.key, allowed_values=allowed)
    old_fp = state.last_run.key_fingerprint if state.last_run else None
    counts: dict[str, textcounts.Counts] = {}
    marks: dict[str, Any] = {
        p.name: source.max_cursor(p.name, p.policy.cursor) if p.policy.cursor else None
        for p in plans
    }  # taken before any read, so rows changed meanwhile are read again next time
    lock = threading.Lock()
    outcomes: dict[str, TableOutcome] = {}
    with ExitStack() as feeds:

        def start(plan: TablePlan) -> TableFeed:
            transform = TableTransform(plan.name, plan.policy, ctx)
            feed = TableFeed(source, plan, transform, batch_rows=run.batch_rows, lock=lock)
            feeds.callback(feed.close)
            return feed

        upcoming = deque(start(plan) for plan in plans[:READ_AHEAD])
        for i, plan in enumerate(plans):
            if i + READ_AHEAD < len(plans):
                upcoming.append(start(plans[i + READ_AHEAD]))
            schema, batches = upcoming.popleft().batches()
            text = [f.name for f in schema if f.name != DELETED and _is_text(f.type)]
            outcome = write_table(
                con,
                plan.name,
                plan.policy.primary_key,
                as_reader(schema, batches, _reporter(run.progress, plan.name)),
                existing=opened.layout.get(plan.name),
                text_columns=text,
                incremental=plan.incremental,
                run_ts=run.started,
                old_fingerprint=old_fp,
            )
            outcomes[plan.name] = outcome
            counts[plan.name] = textcounts.update(
                con, plan.name, text, opened.counts.get(plan.name), outcome.added, outcome.removed
            )  # the table is final: verify uses these counts
            if marks[plan.name] is None and plan.incremental:
                marks[plan.name] = plan.since
    write_watermarks(
        con, [(p.name, marks[p.name], p.table_hash) for p in plans], run.key_fp, run.started
    )
    drop_unlisted(con, opened.layout, {p.name for p in plans})
    textcounts.save(con, counts)
    counted = {(t, c): values for t, columns in counts.items() for c, values in columns.items()}
    return outcomes, counted


def _run(run: _Run, opening: Future[_Opened]) -> SyncResult:
    config, source = run.config, run.source
    live = source.tables()
    # Counting common values needs only the live schema: done while the mirror is copied
    # (unless the policy does not fit the schema; the plan below then says why).
    early = not check_policy(config.policy, live)
    allowed = _allowed_values(source, config.policy.mirrored_tables) if early else {}
    opened = opening.result()  # the working copy holds the live mirror's state
    state = opened.state
    plans = make_plan(
        config.policy,
        live,
        state,
        full=run.full,
        key_fingerprint=run.key_fp,
        origin=config.policy_origin,
    )
    if not early:
        allowed = _allowed_values(source, {p.name: p.policy for p in plans})
    outcomes, counted = _write_tables(run, plans, opened, allowed)
    con = run.ws.con
    report = verify_connection(con, source, config.policy, live, counted)
    if not report.ok:
        raise LeakError(
            "verify found sensitive production values in the new mirror; it "
            "was NOT published\n" + report.describe(),
            hint="fix the policy for the columns named above, then rerun",
        )
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
    compact = not continues or (state.runs_since_full + 1) % COMPACT_EVERY == 0
    run.ws.publish(keep_spare=continues, compact=compact)
    return SyncResult(manifest, outcomes, report)

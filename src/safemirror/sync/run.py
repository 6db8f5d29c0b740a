"""Run a sync end to end: key → plan → stream and transform → mirror → verify → publish."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.audit import AuditLog
from safemirror.config import ProjectConfig, source_url
from safemirror.errors import LeakError, SafemirrorError
from safemirror.keys import fingerprint, load_key
from safemirror.mirror.manifest import RunManifest, state_of, write_run, write_watermark
from safemirror.mirror.schema import DELETED
from safemirror.mirror.tables import TableOutcome, drop_unlisted, write_table
from safemirror.mirror.workspace import MirrorWorkspace
from safemirror.policy.model import Action
from safemirror.sources.base import Source
from safemirror.sources.registry import open_source
from safemirror.sync.plan import TablePlan, make_plan, schema_snapshot
from safemirror.sync.stream import as_reader, prefetch, with_schema
from safemirror.transforms.apply import TableTransform
from safemirror.transforms.registry import TransformContext
from safemirror.verify import VerifyReport, verify_connection

Progress = Callable[[str, int], None]


@dataclass
class SyncResult:
    manifest: RunManifest
    tables: dict[str, TableOutcome]
    verify: VerifyReport


def _allowed_values(
    source: Source, plans: list[TablePlan]
) -> dict[tuple[str, str], frozenset[object]]:
    allowed: dict[tuple[str, str], frozenset[object]] = {}
    for plan in plans:
        for column, spec in plan.policy.columns.items():
            if spec.action is Action.GENERALIZE and spec.min_count:
                values = source.value_counts(plan.name, column, spec.min_count)
                allowed[(plan.name, column)] = frozenset(values)
    return allowed


def _mirror_batches(
    source: Source, plan: TablePlan, transform: TableTransform, batch_rows: int
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    marker = plan.policy.delete_marker

    def shape(batch: pa.RecordBatch) -> pa.RecordBatch:
        out = transform(batch)
        if marker:
            deleted = pc.is_valid(batch.column(batch.schema.get_field_index(marker)))
        else:
            deleted = pa.repeat(pa.scalar(False), batch.num_rows)
        return out.append_column(DELETED, deleted)

    raw = source.read(
        plan.name, plan.select, since=plan.since, cursor=plan.policy.cursor, batch_rows=batch_rows
    )
    empty = pa.RecordBatch.from_pylist([], schema=source.schema_of(plan.name, plan.select))
    fallback = shape(empty).schema  # the mirror schema when the read yields no batch
    return with_schema((shape(b) for b in prefetch(raw)), fallback)


def _reporter(progress: Progress | None, table: str) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda rows: progress(table, rows)


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
        source = open_source(source_url(config))
        display = source.display_url
        try:
            result = _run(
                config,
                source,
                key,
                key_fp,
                full=full,
                run_id=run_id,
                started=started,
                t0=t0,
                progress=progress,
                batch_rows=batch_rows,
            )
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


def _run(
    config: ProjectConfig,
    source: Source,
    key: bytes,
    key_fp: str,
    *,
    full: bool,
    run_id: str,
    started: datetime,
    t0: float,
    progress: Progress | None,
    batch_rows: int,
) -> SyncResult:
    live = source.tables()
    # The working copy is the live mirror's state; a refused plan leaves only it to delete.
    with MirrorWorkspace(config.mirror) as ws:
        state = state_of(ws.con)
        plans = make_plan(
            config.policy,
            live,
            state,
            full=full,
            key_fingerprint=key_fp,
            origin=config.policy_origin,
        )
        ctx = TransformContext(key=key, allowed_values=_allowed_values(source, plans))
        old_fp = state.last_run.key_fingerprint if state.last_run else None
        outcomes: dict[str, TableOutcome] = {}
        for plan in plans:
            watermark = (
                source.max_cursor(plan.name, plan.policy.cursor) if plan.policy.cursor else None
            )
            transform = TableTransform(plan.name, plan.policy, ctx)
            schema, batches = _mirror_batches(source, plan, transform, batch_rows)
            report = _reporter(progress, plan.name)
            outcomes[plan.name] = write_table(
                ws.con,
                plan.name,
                plan.policy.primary_key,
                as_reader(schema, batches, report),
                incremental=plan.incremental,
                run_ts=started,
                old_fingerprint=old_fp,
            )
            if watermark is None and plan.incremental:
                watermark = plan.since
            write_watermark(ws.con, plan.name, watermark, plan.table_hash, key_fp, started)
        drop_unlisted(ws.con, {p.name for p in plans})
        report_ = verify_connection(ws.con, source, config.policy, live)
        if not report_.ok:
            raise LeakError(
                "verify found sensitive production values in the new mirror; it "
                "was NOT published\n" + report_.describe(),
                hint="fix the policy for the columns named above, then rerun",
            )
        manifest = RunManifest(
            run_id=run_id,
            started_at=started,
            finished_at=datetime.now(UTC).replace(tzinfo=None),
            mode="incremental" if any(p.incremental for p in plans) else "full",
            policy_hash=config.policy.digest(),
            key_fingerprint=key_fp,
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
            duration_s=time.perf_counter() - t0,
        )
        write_run(ws.con, manifest)
        continues = (
            state.last_run is not None
            and state.last_run.key_fingerprint == key_fp
            and state.last_run.policy_hash == manifest.policy_hash
            and all(p.incremental for p in plans)
        )
        ws.publish(keep_spare=continues)
    return SyncResult(manifest, outcomes, report_)

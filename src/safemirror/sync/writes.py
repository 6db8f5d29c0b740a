"""Write the planned tables into the working mirror, one table at a time or several at once.

Each table's write is self-contained: its rows (``write_table``), its running text counts
and its ``min_count`` rule touch that table alone (and append to the history). When every
table is incremental, their changes are small and held in memory, and DuckDB spends most
of a write on one core; ``WRITERS`` tables are then written at once, each on its own
cursor and in its own transaction, which the working copy allows because it is private:
publishing it, not committing, is what makes a run visible. Their commits go to the
working copy's log (no disk sync); the run's final commit folds everything into the file.
Any other run (a table written in full among them) streams its tables one after the other,
in one transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from safemirror.mirror import textcounts
from safemirror.mirror.schema import DELETED
from safemirror.mirror.tables import TableOutcome, check_unique_key, write_table
from safemirror.sync import categories
from safemirror.sync.feed import FeedQueue, TableFeed
from safemirror.sync.plan import TablePlan
from safemirror.sync.stream import WatchedReader
from safemirror.sync.view import MirrorView

Progress = Callable[[str, int], None]  # (table, rows just written)
WRITERS = 2  # incremental tables written at once
_LOG_ONLY = "1TB"  # the checkpoint threshold while writers commit: their commits only log


@dataclass(frozen=True)
class WriteContext:
    """What every table's write shares."""

    view: MirrorView
    run_ts: datetime
    old_fingerprint: str | None
    previous: str | None  # the attached live mirror, when the tables are rebuilt
    progress: Progress | None
    check_counts: bool = True  # check the running text counts against the tables


@dataclass(frozen=True)
class TableWritten:
    outcome: TableOutcome
    counts: textcounts.Counts  # the table's text counts once written (verify uses them)


def _is_text(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


def write_one(
    con: duckdb.DuckDBPyConnection, plan: TablePlan, feed: TableFeed, ctx: WriteContext
) -> TableWritten:
    """Write ``plan``'s table from its feed, then bring its text counts up to date and
    hide every category too few of its rows hold."""
    schema, batches = feed.batches()
    text = [f.name for f in schema if f.name != DELETED and _is_text(f.type)]
    report = None if ctx.progress is None else _reporter(ctx.progress, plan.name)
    stream = WatchedReader(schema, batches, report)
    try:
        outcome = write_table(
            con,
            plan.name,
            plan.policy.primary_key,
            stream.reader,
            existing=ctx.view.layout.get(plan.name),
            text_columns=text,
            incremental=plan.incremental,
            run_ts=ctx.run_ts,
            old_fingerprint=ctx.old_fingerprint,
            previous=ctx.previous,
            count_text=ctx.check_counts,
        )
    except duckdb.Error:
        if stream.error is None:
            raise
        raise stream.error from None  # what ended the stream, not DuckDB's report of it
    if not plan.key_enforced:
        check_unique_key(con, plan.name, plan.policy.primary_key, declared=plan.key_declared)
    counts = textcounts.update(
        con,
        plan.name,
        text,
        ctx.view.counts.get(plan.name),
        outcome.added,
        outcome.removed,
        outcome.non_null,
        check=ctx.check_counts,
    )
    min_count = categories.min_count_columns(plan.policy)
    if min_count:  # no category shown on fewer rows than its min_count
        counts = categories.enforce(con, plan.name, min_count, counts)
    return TableWritten(outcome, counts)


def _reporter(progress: Progress, table: str) -> Callable[[int], None]:
    return lambda rows: progress(table, rows)


def write_all(
    con: duckdb.DuckDBPyConnection, plans: list[TablePlan], feeds: FeedQueue, ctx: WriteContext
) -> dict[str, TableWritten]:
    """Write every table of ``plans`` (feeds in plan order) inside ``con``'s transaction,
    or, when all are incremental, ``WRITERS`` at a time (see the module docstring)."""
    if WRITERS < 2 or len(plans) < 2 or not all(p.incremental for p in plans):
        return {plan.name: write_one(con, plan, feeds.next(), ctx) for plan in plans}
    with _between_transactions(con):
        return _write_parallel(con, plans, feeds, ctx)


@contextmanager
def _between_transactions(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """End ``con``'s transaction (it has only read so far) for the writers' own, and
    start a new one once they are done; meanwhile commits only append to the log."""
    (threshold,) = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0]
    con.execute("COMMIT")
    con.execute(f"SET checkpoint_threshold = '{_LOG_ONLY}'")
    try:
        yield
    finally:
        con.execute(f"SET checkpoint_threshold = '{threshold}'")
        con.execute("BEGIN TRANSACTION")


def _write_parallel(
    con: duckdb.DuckDBPyConnection, plans: list[TablePlan], feeds: FeedQueue, ctx: WriteContext
) -> dict[str, TableWritten]:
    """``WRITERS`` threads, each on its own cursor, take the next table (and its feed, in
    plan order) and write it in a transaction of its own; the first failure stops them."""
    waiting = list(plans)
    done: dict[str, TableWritten] = {}
    take = threading.Lock()
    failed = threading.Event()

    def writer() -> None:
        cursor = con.cursor()  # on the working copy: the workspace makes it the only database
        try:
            while not failed.is_set():
                with take:
                    if not waiting:
                        return
                    plan, feed = waiting.pop(0), feeds.next()
                cursor.execute("BEGIN TRANSACTION")
                done[plan.name] = write_one(cursor, plan, feed, ctx)
                cursor.execute("COMMIT")
        except BaseException:
            failed.set()
            raise
        finally:
            cursor.close()  # rolls back a transaction a failure left open

    with ThreadPoolExecutor(WRITERS, thread_name_prefix="safemirror-write") as pool:
        futures = [pool.submit(writer) for _ in range(WRITERS)]
    for future in futures:
        future.result()  # the first failure, if any, is raised here
    return {plan.name: done[plan.name] for plan in plans}

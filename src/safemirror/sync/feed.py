"""One table's de-identified rows, read and transformed ahead in a background thread.

A run starts the next table's feed before it writes the current one, so the source reads
and the transforms of one table overlap with the mirror writes of the one before. The
transforms share one lock: the pseudonym caches are shared across tables and not
thread-safe. A run may also bound the reads open on the source at once: each holds a
server session, and a PostgreSQL session costs the server a process to start (about 5 ms
of its CPU), more than an incremental table's rows often do.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.errors import PolicyError
from safemirror.mirror.schema import DELETED
from safemirror.sources.base import Source
from safemirror.sync.plan import TablePlan
from safemirror.sync.stream import ReadAhead, with_schema
from safemirror.transforms.apply import TableTransform


class TableFeed:
    """Start reading ``plan``'s rows now; ``batches()`` hands them over, ``close()`` stops."""

    def __init__(
        self,
        source: Source,
        plan: TablePlan,
        transform: TableTransform,
        *,
        batch_rows: int,
        lock: threading.Lock,
        versions_at: Any | None = None,
        read_ended: Callable[[], None] | None = None,
    ) -> None:
        self.plan = plan
        self.versions: set[int] = set()  # of the rows read at ``versions_at`` (if given)
        # Rows with no value in any cursor column, counted on a read in full: an
        # incremental read can never take such a row (see ``uncursored``).
        self.uncursored = 0
        self._count_uncursored = not plan.incremental and bool(plan.policy.cursor)
        self._transform = transform
        self._lock = lock
        self._read_schema = source.schema_of(plan.name, plan.select)
        raw = source.read(
            plan.name,
            plan.select,
            since=plan.read_since,
            cursor=plan.policy.cursor,
            skip_versions=plan.read_skips,
            versions_at=versions_at,
            versions=self.versions,
            batch_rows=batch_rows,
        )
        if read_ended is not None:
            raw = _until_read(raw, read_ended)
        self._ahead = ReadAhead(self._shape(batch) for batch in raw)

    def _shape(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The mirror columns of ``batch`` plus the ``_sm_deleted`` flag."""
        _check_key(self.plan, batch)
        if self._count_uncursored:
            self.uncursored += _without_cursor(batch, self.plan.policy.cursor)
        with self._lock:
            out = self._transform(batch)
        marker = self.plan.policy.delete_marker
        if marker:
            deleted = _marked(batch.column(batch.schema.get_field_index(marker)))
        else:
            deleted = pa.repeat(pa.scalar(False), batch.num_rows)
        return out.append_column(DELETED, deleted)

    def _empty_schema(self) -> pa.Schema:
        """The mirror schema when no batch comes, shaped only then. A feed is often
        started by the thread whose read just ended (see ``FeedQueue``), before that
        thread hands over the end of its rows: waiting there for the transforms' lock,
        which another feed may hold for a while, would hold up the table being written."""
        return self._shape(pa.RecordBatch.from_pylist([], schema=self._read_schema)).schema

    def batches(self) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """The mirror schema and the batches (waits for the first one)."""
        return with_schema(self._ahead, self._empty_schema)

    def close(self) -> None:
        self._ahead.close()


def _marked(marker: pa.Array) -> pa.Array:
    """Which rows a delete marker marks deleted: a flag (``is_deleted``) where it is true,
    any other column (``deleted_at``) where it holds a value."""
    if pa.types.is_boolean(marker.type):
        return pc.fill_null(marker, False)
    return pc.is_valid(marker)


def _check_key(plan: TablePlan, batch: pa.RecordBatch) -> None:
    """Refuse rows whose primary key is NULL: the mirror could not tell them apart, and
    every incremental run would add them again instead of replacing them."""
    for name in plan.policy.primary_key:
        nulls = batch.column(name).null_count
        if nulls:
            raise PolicyError(
                f"table '{plan.name}': {nulls} row(s) hold NULL in primary key column "
                f"'{name}', so the mirror could not identify them; nothing was published",
                hint="declare as primary_key column(s) that are never NULL, or 'skip' the table",
            )


def _without_cursor(batch: pa.RecordBatch, cursor: list[str]) -> int:
    """The rows of ``batch`` whose cursor columns are all NULL."""
    columns = [batch.column(name) for name in cursor]
    if any(column.null_count == 0 for column in columns):
        return 0  # the common case, known without a pass over the rows
    missing = pc.is_null(columns[0])
    for column in columns[1:]:
        missing = pc.and_(missing, pc.is_null(column))
    return int(pc.sum(missing).as_py() or 0)


def _until_read(
    rows: Iterator[pa.RecordBatch], ended: Callable[[], None]
) -> Iterator[pa.RecordBatch]:
    """``rows``; then ``ended()``, once the source has yielded the last (or stopped)."""
    try:
        yield from rows
    finally:
        ended()


class FeedQueue:
    """The tables' feeds in plan order: ``ahead`` of them started before they are needed,
    and, with ``streams``, at most that many still reading from the source; a feed held
    back starts when a read ends, or at once when it is needed.

    ``start(plan, read_ended)`` makes a feed that calls ``read_ended`` once its read is
    over. ``next()`` hands over the next feed; ``close()`` closes every feed started. A
    feed that fails to start ahead of time is started again when it is needed, so its
    failure is raised by the ``next()`` that asks for it.
    """

    def __init__(
        self,
        start: Callable[[TablePlan, Callable[[], None]], TableFeed],
        plans: list[TablePlan],
        ahead: int,
        streams: int | None = None,
    ) -> None:
        self._start = start
        self._ahead = max(1, ahead)
        self._streams = streams if streams is not None else len(plans) + 1
        self._streaming = 0  # feeds started whose read is not over
        self._lock = threading.Lock()
        self._waiting = deque(plans)
        self._reading: deque[TableFeed] = deque()  # started, not handed over yet
        self._started: list[TableFeed] = []
        try:
            with self._lock:
                self._fill()
        except BaseException:
            self.close()
            raise

    def _fill(self) -> None:
        """Start feeds while both limits allow (the lock held)."""
        while (
            self._waiting and len(self._reading) < self._ahead and self._streaming < self._streams
        ):
            self._launch()

    def _launch(self) -> None:
        """Start the next waiting feed (the lock held)."""
        ended = threading.Event()

        def read_ended() -> None:
            with self._lock:
                if ended.is_set():
                    return
                ended.set()
                self._streaming -= 1
                # Runs in the ended read's thread: a feed that fails to start here stays
                # waiting, and ``next()`` starts it again, so the failure is raised there.
                with contextlib.suppress(Exception):
                    self._fill()

        feed = self._start(self._waiting[0], read_ended)
        self._waiting.popleft()
        self._streaming += 1
        self._started.append(feed)
        self._reading.append(feed)

    def next(self) -> TableFeed:
        """The next table's feed (reading already, or started now)."""
        with self._lock:
            if not self._reading:
                self._launch()  # held back, or failed to start ahead: needed now
            feed = self._reading.popleft()
            with contextlib.suppress(Exception):  # one failing ahead raises when needed
                self._fill()
        return feed

    def versions(self) -> dict[str, set[int]]:
        """The row versions each table's read recorded (see ``TableFeed``)."""
        return {feed.plan.name: feed.versions for feed in self._started}

    def uncursored(self) -> dict[str, int]:
        """The tables whose read in full found rows without any cursor value, and how many."""
        return {feed.plan.name: feed.uncursored for feed in self._started if feed.uncursored}

    def close(self) -> None:
        for feed in self._started:
            feed.close()

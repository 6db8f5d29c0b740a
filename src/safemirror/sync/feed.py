"""One table's de-identified rows, read and transformed ahead in a background thread.

A run starts the next table's feed before it writes the current one, so the source reads
and the transforms of one table overlap with the mirror writes of the one before. The
transforms share one lock: the pseudonym caches are shared across tables and not
thread-safe.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

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
    ) -> None:
        self.plan = plan
        self.versions: set[int] = set()  # of the rows read at ``versions_at`` (if given)
        self._transform = transform
        self._lock = lock
        empty = pa.RecordBatch.from_pylist([], schema=source.schema_of(plan.name, plan.select))
        self.fallback = self._shape(empty).schema  # the mirror schema when no batch comes
        raw = source.read(
            plan.name,
            plan.select,
            since=plan.since,
            cursor=plan.policy.cursor,
            skip_versions=plan.skip_versions,
            versions_at=versions_at,
            versions=self.versions,
            batch_rows=batch_rows,
        )
        self._ahead = ReadAhead(self._shape(batch) for batch in raw)

    def _shape(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The mirror columns of ``batch`` plus the ``_sm_deleted`` flag."""
        with self._lock:
            out = self._transform(batch)
        marker = self.plan.policy.delete_marker
        if marker:
            deleted = pc.is_valid(batch.column(batch.schema.get_field_index(marker)))
        else:
            deleted = pa.repeat(pa.scalar(False), batch.num_rows)
        return out.append_column(DELETED, deleted)

    def batches(self) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """The mirror schema and the batches (waits for the first one)."""
        return with_schema(self._ahead, self.fallback)

    def close(self) -> None:
        self._ahead.close()


class FeedQueue:
    """The tables' feeds in plan order, with ``ahead`` of them reading at any time.

    Creating the queue starts the first ``ahead`` feeds; ``next()`` hands over the next
    feed and starts one more; ``close()`` closes every feed started.
    """

    def __init__(
        self, start: Callable[[TablePlan], TableFeed], plans: list[TablePlan], ahead: int
    ) -> None:
        self._start = start
        self._waiting = deque(plans)
        self._reading: deque[TableFeed] = deque()
        self._started: list[TableFeed] = []
        try:
            for _ in range(max(1, ahead)):
                self._launch()
        except BaseException:
            self.close()
            raise

    def _launch(self) -> None:
        if self._waiting:
            feed = self._start(self._waiting.popleft())
            self._started.append(feed)
            self._reading.append(feed)

    def next(self) -> TableFeed:
        """The next table's feed (already reading); the one after it starts now."""
        feed = self._reading.popleft()
        self._launch()
        return feed

    def versions(self) -> dict[str, set[int]]:
        """The row versions each table's read recorded (see ``TableFeed``)."""
        return {feed.plan.name: feed.versions for feed in self._started}

    def close(self) -> None:
        for feed in self._started:
            feed.close()

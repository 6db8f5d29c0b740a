"""Stream helpers: read ahead in a thread, and turn a batch iterator into an Arrow reader."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa

from safemirror import stopping

_DONE = object()
_JOIN_S = 30.0  # how long closing waits for a reader thread stuck in its source


class ReadAhead:
    """Pull ``items`` in a background thread from construction on, at most ``depth`` ahead.

    Iterate it once; an error in the thread is raised to the consumer. ``close()`` stops
    the thread (it finishes the item it is pulling) and waits for it, so nothing the thread
    uses is closed under it.
    """

    def __init__(self, items: Iterable[pa.RecordBatch], depth: int = 2) -> None:
        self._slots: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._items = items
        self._worker = threading.Thread(target=self._pump, name="safemirror-read", daemon=True)
        self._worker.start()

    def _pump(self) -> None:
        try:
            for item in self._items:
                while not self._stop.is_set():
                    try:
                        self._slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._slots.put(_DONE)
        except BaseException as exc:  # handed to the consumer, re-raised there
            self._slots.put(exc)
        finally:
            self._items = ()  # drop the source iterator here, so its cleanup runs in this thread

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            while True:
                item = self._slots.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, pa.RecordBatch)
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        deadline = time.monotonic() + _JOIN_S
        while self._worker.is_alive() and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):  # unblock a thread waiting to put
                self._slots.get_nowait()
            self._worker.join(timeout=0.05)


def prefetch(batches: Iterable[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """Pull ``batches`` in a background thread, at most ``depth`` ahead (bounded memory)."""
    return iter(ReadAhead(batches, depth))


class WatchedReader:
    """An Arrow stream (``reader``) over ``batches``, reporting each batch's row count,
    that keeps the error which ended it (``error``).

    DuckDB reports an error raised while it reads a stream as an error of its own, and
    the next statement as an aborted transaction; the caller raises ``error`` instead, so
    a policy error, a source failure or a stop (Ctrl-C, SIGTERM) met deep in a table is
    reported as itself."""

    def __init__(
        self,
        schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.error: BaseException | None = None
        self.reader = pa.RecordBatchReader.from_batches(schema, self._counted(batches, on_batch))

    def _counted(
        self, batches: Iterable[pa.RecordBatch], on_batch: Callable[[int], None] | None
    ) -> Iterator[pa.RecordBatch]:
        try:
            for batch in batches:
                stopping.check()  # a stop whose exception C code swallowed ends it here
                if on_batch is not None:
                    on_batch(batch.num_rows)
                yield batch
        except GeneratorExit:  # the reader was closed early: no error of the stream's
            raise
        except BaseException as exc:
            self.error = exc
            raise


def as_reader(
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    on_batch: Callable[[int], None] | None = None,
) -> pa.RecordBatchReader:
    """An Arrow stream over ``batches``, reporting each batch's row count."""
    return WatchedReader(schema, batches, on_batch).reader


def with_schema(
    batches: Iterable[pa.RecordBatch], fallback: pa.Schema | Callable[[], pa.Schema]
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The schema of the first batch and all batches; when there is none, ``fallback``
    (or what it returns, when it is a function: called only then)."""
    iterator = iter(batches)
    first = next(iterator, None)
    if first is None:
        return (fallback if isinstance(fallback, pa.Schema) else fallback()), iter(())

    def chained() -> Iterator[pa.RecordBatch]:
        yield first
        yield from iterator

    return first.schema, chained()

"""Stream helpers: read ahead in a thread, and turn a batch iterator into an Arrow reader."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa

_DONE = object()


def prefetch(batches: Iterable[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """Pull ``batches`` in a background thread, at most ``depth`` ahead (bounded memory)."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def pump() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        slots.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as exc:  # handed to the consumer, re-raised there
            slots.put(exc)

    worker = threading.Thread(target=pump, name="safemirror-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, pa.RecordBatch)
            yield item
    finally:
        stop.set()


def as_reader(
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    on_batch: Callable[[int], None] | None = None,
) -> pa.RecordBatchReader:
    """An Arrow stream over ``batches``, reporting each batch's row count."""

    def counted() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if on_batch is not None:
                on_batch(batch.num_rows)
            yield batch

    return pa.RecordBatchReader.from_batches(schema, counted())


def with_schema(
    batches: Iterable[pa.RecordBatch], fallback: pa.Schema
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The schema of the first batch (``fallback`` when there is none) and all batches."""
    iterator = iter(batches)
    first = next(iterator, None)
    if first is None:
        return fallback, iter(())

    def chained() -> Iterator[pa.RecordBatch]:
        yield first
        yield from iterator

    return first.schema, chained()

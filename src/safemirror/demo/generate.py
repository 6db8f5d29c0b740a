"""``generate``: build the demo production database at a scale, deterministically.

Generation (NumPy/Arrow, one chunk of users at a time) runs in a background thread while
the main thread loads the previous chunk, so the two cores share the work; a bounded
queue keeps at most a few chunks in memory.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from safemirror.demo.chunks import chunk_count, estimated_rows, generate_chunks
from safemirror.demo.schema import TABLES
from safemirror.demo.targets import open_writer, parse_target
from safemirror.errors import UsageError

__all__ = ["MAX_SCALE", "TABLES", "GenerationSummary", "generate", "validate"]

MAX_SCALE = 10.0
SEED_LIMIT = 2**32

Chunk = dict[str, pa.Table]


@dataclass(frozen=True)
class GenerationSummary:
    """What ``generate`` made: rows per table (in ``TABLES`` order) and how long it took."""

    target: str  # the URL, password redacted
    scale: float
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0


def validate(scale: float, seed: int) -> None:
    """Reject a scale or seed that cannot give a sensible database."""
    if not (isinstance(scale, int | float) and math.isfinite(scale)) or scale <= 0:
        raise UsageError(
            f"scale must be a positive number, got {scale!r}",
            hint="use 0.001–0.1 for tests and demos, 1 for the full 2.4 M users",
        )
    if scale > MAX_SCALE:
        raise UsageError(
            f"scale {scale:g} is too large (at most {MAX_SCALE:g}: 24 M users, ~600 M events)",
            hint="scale 1 is the incident's size (2.4 M users); use a smaller scale",
        )
    if not 0 <= seed < SEED_LIMIT:
        raise UsageError(f"seed must be in 0…{SEED_LIMIT - 1}, got {seed}", hint="pass --seed 42")


def _background(chunks: Iterator[Chunk], depth: int = 2) -> Iterator[Chunk]:
    """Run ``chunks`` in a thread, ``depth`` chunks ahead of the consumer."""
    box: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in chunks:
                while not stop.is_set():
                    try:
                        box.put(("chunk", item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("done", None))
        except BaseException as exc:
            box.put(("error", exc))

    worker = threading.Thread(target=produce, name="safemirror-demo-generate", daemon=True)
    worker.start()
    try:
        while True:
            kind, payload = box.get()
            if kind == "done":
                return
            if kind == "error":
                assert isinstance(payload, BaseException)
                raise payload
            yield payload  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                box.get_nowait()
            worker.join(timeout=0.1)


def generate(
    url: str,
    *,
    scale: float,
    seed: int = 42,
    replace: bool = False,
    progress: bool = False,
) -> GenerationSummary:
    """Generate the seven production tables at ``scale`` into ``url`` (SQLite or PostgreSQL).

    Refuses a target that already holds them unless ``replace``. All-or-nothing: on any
    error the target is left as it was. Raises ``UsageError``, ``SourceError`` or
    ``ConflictError`` with a message and a fix.
    """
    validate(scale, seed)
    target = parse_target(url)
    started = time.perf_counter()
    writer = open_writer(target, replace=replace)
    rows = dict.fromkeys(TABLES, 0)
    bars = _Bars(scale) if progress else None
    try:
        for chunk in _background(generate_chunks(seed, scale)):
            for table in TABLES:
                writer.write(table, chunk[table])
                rows[table] += chunk[table].num_rows
            if bars is not None:
                bars.advance(chunk)
        if bars is not None:
            bars.finishing()
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        if bars is not None:
            bars.close()
    return GenerationSummary(
        target=target.display,
        scale=scale,
        seed=seed,
        rows=rows,
        seconds=time.perf_counter() - started,
    )


class _Bars:
    """Rich progress: one bar per table (against its estimate) and one for the finish."""

    def __init__(self, scale: float) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description:<18}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        estimate = estimated_rows(scale)
        self.tasks = {t: self.progress.add_task(t, total=estimate[t]) for t in TABLES}
        self.done = dict.fromkeys(TABLES, 0)
        self.chunks_left = chunk_count(scale)
        self.finish = self.progress.add_task("keys and indexes", total=None, visible=False)
        self.progress.start()

    def advance(self, chunk: Chunk) -> None:
        self.chunks_left -= 1
        for table, data in chunk.items():
            self.done[table] += data.num_rows
            total = self.done[table] if self.chunks_left == 0 else None
            self.progress.update(self.tasks[table], completed=self.done[table], total=total)

    def finishing(self) -> None:
        self.progress.update(self.finish, visible=True)

    def close(self) -> None:
        self.progress.stop()

"""Read-only access to the mirror, reopened whenever a sync replaces the file.

The sync publishes a new mirror with ``os.replace``; an open DuckDB database keeps reading
the old inode. Every request stats the file and, when its identity changed, waits for the
requests still on the old file, closes it and opens the new one (DuckDB caches databases by
path, so the old one must be closed first). The database is opened read-only with external
access disabled, extension loading off and the configuration locked. Analysts' SQL gets a
fresh cursor per request, so nothing it does outlives it; the server's own metric queries
may reuse idle cursors (``reuse=True``), which saves setting one up per request.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from safemirror.errors import TransientError, UsageError
from safemirror.mirror.manifest import unreadable
from safemirror.mirror.schema import OFFLINE

_DRAIN_WAIT_S = 60.0
T = TypeVar("T")


class MirrorMissing(TransientError):
    """The mirror file does not exist (yet)."""


class QueryTimeout(UsageError):
    """A query ran past its time limit and was interrupted."""


def connect_read_only(
    path: Path, *, memory_limit: str = "1GB", threads: int = 2
) -> duckdb.DuckDBPyConnection:
    """Open ``path`` read-only with every way out of the file closed."""
    config: dict[str, Any] = {
        "access_mode": "READ_ONLY",
        "enable_external_access": False,
        **OFFLINE,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "memory_limit": memory_limit,
        "threads": threads,
        "lock_configuration": True,
    }
    try:
        return duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error as exc:
        raise unreadable(path, exc, "opened") from None


@dataclass
class _Generation:
    ident: tuple[int, int, int, int]
    con: duckdb.DuckDBPyConnection
    active: int = 0
    cache: dict[str, Any] = field(default_factory=dict)
    idle: list[duckdb.DuckDBPyConnection] = field(default_factory=list)

    def close(self) -> None:
        for cursor in self.idle:
            cursor.close()
        self.idle.clear()
        self.con.close()


class MirrorPool:
    """Hands out read-only cursors on the current mirror file.

    At most ``max_queries`` cursors (default: one per DuckDB thread) work at once; the
    others wait up to ``queue_wait_s``:
    DuckDB parallelizes each query already, and the memory limit is shared, so running
    every request at once would only thrash.
    """

    def __init__(
        self,
        path: Path,
        *,
        memory_limit: str = "1GB",
        threads: int | None = None,
        max_queries: int | None = None,
        queue_wait_s: float = 120.0,
    ):
        self.path = Path(path)
        self.memory_limit = memory_limit
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self.queue_wait_s = queue_wait_s
        self._slots = threading.BoundedSemaphore(max_queries or self.threads)
        self._current: _Generation | None = None
        self._cond = threading.Condition()
        self._sessions = 0  # cursors handed out, on any generation

    def ident(self) -> tuple[int, int, int, int]:
        """The identity of the mirror file now (changes when a sync replaces it)."""
        return self._ident()

    def _ident(self) -> tuple[int, int, int, int]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise MirrorMissing(
                f"the mirror {self.path} does not exist yet", hint="run 'safemirror sync' first"
            ) from None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    def _acquire(self, ident: tuple[int, int, int, int] | None) -> _Generation:
        ident = ident or self._ident()
        with self._cond:
            current = self._current
            if current is not None and current.ident != ident:
                self._cond.wait_for(lambda: current.active == 0, timeout=_DRAIN_WAIT_S)
                if self._current is current:
                    current.close()
                    self._current = None
            if self._current is None:
                con = connect_read_only(
                    self.path, memory_limit=self.memory_limit, threads=self.threads
                )
                self._current = _Generation(self._ident(), con)
            self._current.active += 1
            self._sessions += 1
            return self._current

    def _release(self, generation: _Generation) -> None:
        with self._cond:
            generation.active -= 1
            self._sessions -= 1
            self._cond.notify_all()

    def idle(self) -> bool:
        """Whether no query is running now (read without waiting for the lock)."""
        return self._sessions == 0

    @contextmanager
    def session(
        self, *, reuse: bool = False, ident: tuple[int, int, int, int] | None = None
    ) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, Any]]]:
        """A cursor and the per-file cache (catalog, data range) of this mirror.

        ``reuse`` hands out an idle cursor of the server's own earlier queries when there
        is one and keeps it afterwards; otherwise the cursor is fresh and closed after.
        ``ident``: the file's identity as the caller just read it (``ident()``), not
        read again.
        """
        if not self._slots.acquire(timeout=self.queue_wait_s):
            raise TransientError(
                "the server is busy: too many queries are waiting", hint="retry in a moment"
            )
        try:
            generation = self._acquire(ident)
            cursor = self._take_cursor(generation, reuse)
            keep = False
            try:
                yield cursor, generation.cache
                keep = reuse
            finally:
                self._return_cursor(generation, cursor, keep)
                self._release(generation)
        finally:
            self._slots.release()

    def _take_cursor(self, generation: _Generation, reuse: bool) -> duckdb.DuckDBPyConnection:
        if reuse:
            with self._cond:
                if generation.idle:
                    return generation.idle.pop()
        return generation.con.cursor()

    def _return_cursor(
        self, generation: _Generation, cursor: duckdb.DuckDBPyConnection, keep: bool
    ) -> None:
        with self._cond:
            if keep and self._current is generation:
                generation.idle.append(cursor)
                return
        cursor.close()

    def run(
        self,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        timeout_s: float,
        *,
        reuse: bool = False,
        ident: tuple[int, int, int, int] | None = None,
    ) -> T:
        """Run ``work`` on a cursor (see ``session``), interrupted after ``timeout_s``.

        A database error that is not the deadline's is ours to report: out of memory is
        ``TransientError`` (the server is short of it now), anything else means the mirror
        cannot be read (``unreadable``).
        """
        with self.session(reuse=reuse, ident=ident) as (cursor, _):
            try:
                with deadline(cursor, timeout_s):
                    return work(cursor)
            except (duckdb.OutOfMemoryException, MemoryError):
                raise TransientError(
                    "the server ran out of memory for this request",
                    hint="retry in a moment, or ask for a shorter range",
                ) from None
            except duckdb.Error as exc:
                raise unreadable(self.path, exc) from None

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.session() as (cursor, _):
            yield cursor

    def close(self) -> None:
        with self._cond:
            if self._current is not None:
                self._current.close()
                self._current = None


_Handle = list[Callable[[], None] | None]  # the action, None once cancelled or run


class _Watchdog:
    """One daemon thread that runs actions at their deadlines (a ``threading.Timer`` per
    query would start a thread per query). Cancelled entries are dropped when due."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Handle]] = []
        self._tickets = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, seconds: float, action: Callable[[], None]) -> _Handle:
        """Run ``action`` in ``seconds`` unless the returned handle is cancelled first."""
        handle: _Handle = [action]
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._tickets), handle))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is handle:
                self._cond.notify()  # earlier than everything waiting: wake the thread
        return handle

    def cancel(self, handle: _Handle) -> None:
        with self._cond:
            handle[0] = None

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._heap:
                    self._cond.wait()
                    continue
                due, _, handle = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0 and handle[0] is not None:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                action, handle[0] = handle[0], None
                if action is None:
                    continue
                self._cond.release()
                try:
                    with suppress(duckdb.Error):  # the cursor was closed meanwhile
                        action()
                finally:
                    action = None  # hold no cursor while waiting
                    self._cond.acquire()


_WATCHDOG = _Watchdog()


@contextmanager
def deadline(cursor: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt ``cursor`` after ``seconds``; raise ``QueryTimeout`` if that happened."""
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        cursor.interrupt()

    handle = _WATCHDOG.schedule(seconds, stop)
    try:
        yield
    except duckdb.Error:
        if fired.is_set():
            raise QueryTimeout(
                f"the query ran longer than {seconds:g} s and was stopped",
                hint="narrow it (fewer rows, a shorter range)",
            ) from None
        raise
    finally:
        _WATCHDOG.cancel(handle)

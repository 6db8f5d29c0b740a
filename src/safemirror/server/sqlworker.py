"""Analysts' SQL runs in a worker process (``sqlchild``), never in the server itself.

A query that exhausts memory fails in the worker, under the worker's own cap, and the
server keeps all of its own for metrics; a worker whose address space stays used is
replaced (a fresh one is started at once, the old one leaves when its queries are
answered). A query whose client goes away is interrupted; one that does not stop within
``GRACE_S`` of its time limit has its worker killed and replaced. Answers come back as
the encoded response body.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import safemirror
from safemirror.errors import SafemirrorError, SourceError, TransientError, UsageError
from safemirror.metrics.mirror import MirrorMissing, QueryTimeout
from safemirror.server.sandbox import QueryFailed, QueryRefused
from safemirror.server.sqlchild import Answer, WorkerSettings, unframe

GRACE_S = 5.0  # past its time limit, a query that has not answered ends its worker
POLL_S = 0.5


class QueryCancelled(UsageError):
    """The client went away and its query was stopped."""


ERRORS: dict[str, type[SafemirrorError]] = {
    cls.__name__: cls
    for cls in (
        QueryRefused,
        QueryFailed,
        QueryTimeout,
        QueryCancelled,
        TransientError,
        MirrorMissing,
        SourceError,
    )
}


def raise_for(answer: Answer) -> None:
    """Raise the error an answer carries, as the class the worker raised (or QueryFailed)."""
    if answer.error is not None:
        raise ERRORS.get(answer.error, QueryFailed)(answer.message, hint=answer.hint)


def _spawn(settings: WorkerSettings) -> tuple[Connection, subprocess.Popen[bytes]]:
    """Start a worker: a fresh interpreter (never a fork of the threaded server, and never
    a re-run of the program that started the server) on one end of a socket pair."""
    ours, theirs = socket.socketpair()
    package = str(Path(safemirror.__file__).resolve().parent.parent)  # this very code
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, package, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # errors still reach the server's stderr
        )
    finally:
        theirs.close()
    conn = Connection(ours.detach())
    conn.send(settings)
    return conn, process


_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from safemirror.server.sqlchild import boot; boot(int(sys.argv[2]))"
)


@dataclass
class _Pending:
    future: Future[Answer]
    timeout_s: float
    started: float  # when it was sent, or when the worker says it began (it waited)


class _Child:
    """One worker process, its pipe, and the requests it has in hand."""

    def __init__(self, settings: WorkerSettings, on_retire: Callable[[_Child], None]) -> None:
        self.conn, self.process = _spawn(settings)
        self.on_retire = on_retire
        self.lock = threading.Lock()  # the bookkeeping; never held while writing
        self.send_lock = threading.Lock()  # one message at a time on the pipe
        self.pending: dict[int, _Pending] = {}
        self.ready = False
        self.retiring = False
        self.gone = False
        self.stuck: int | None = None  # the request it was killed for
        threading.Thread(target=self._read, name="sql-worker", daemon=True).start()

    def submit(self, ident: int, sql: str, max_rows: int, timeout_s: float) -> Future[Answer]:
        future: Future[Answer] = Future()
        with self.lock:
            if self.gone or self.retiring:
                raise BrokenPipeError
            self.pending[ident] = _Pending(future, timeout_s, time.monotonic())
        try:
            with self.send_lock:
                self.conn.send(("run", ident, sql, max_rows, timeout_s))
        except OSError:
            with self.lock:
                self.pending.pop(ident, None)
            raise
        return future

    def send(self, message: tuple[object, ...]) -> None:
        with suppress(OSError), self.send_lock:  # it is ending: the reader answers for it
            self.conn.send(message)

    def retire(self) -> None:
        """Take no new requests; leave once those in hand are answered."""
        with self.lock:
            self.retiring = True
        self.send(("stop",))

    def kill(self) -> None:
        with suppress(OSError):
            self.process.kill()

    def _read(self) -> None:
        try:
            while True:
                if self.conn.poll(POLL_S):
                    self._handle(self.conn.recv_bytes())
                self._kill_if_stuck()
        except (EOFError, OSError):
            pass
        except (ValueError, KeyError, TypeError):  # not our worker's message: end it
            self.kill()
        with self.lock:
            self.gone = True
            pending, self.pending = self.pending, {}
        for ident, item in pending.items():
            item.future.set_result(self._lost(ident, item))
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.conn.close()

    def _handle(self, data: bytes) -> None:
        header, body = unframe(data)
        kind = header.get("kind")
        if kind == "ready":  # what was sent meanwhile starts now
            with self.lock:
                self.ready = True
                for waiting in self.pending.values():
                    waiting.started = time.monotonic()
        elif kind == "started":
            with self.lock:
                started = self.pending.get(int(header["id"]))
                if started is not None:
                    started.started = time.monotonic()
        elif kind == "done":
            answer = Answer.decode(header["answer"], body)
            with self.lock:
                done = self.pending.pop(int(header["id"]), None)
            if answer.retire and not self.retiring:
                # replaced before the answer is handed on: the client's next query, sent
                # the moment it reads this one, goes to the new worker, not to this one
                self.on_retire(self)
            if done is not None:
                done.future.set_result(answer)

    def _kill_if_stuck(self) -> None:
        now = time.monotonic()
        with self.lock:
            for ident, item in self.pending.items():
                if now > item.started + item.timeout_s + GRACE_S:
                    self.stuck = ident
                    break
            else:
                return
        self.kill()

    def _lost(self, ident: int, item: _Pending) -> Answer:
        """The answer to a request the worker ended without answering."""
        if ident == self.stuck:
            return Answer(
                error="QueryTimeout",
                message=f"the query ran longer than {item.timeout_s:g} s and could not be "
                "interrupted; its worker was stopped",
                hint="narrow it (fewer rows, shorter values)",
            )
        if not self.ready:
            return Answer(error="TransientError", message="the SQL worker could not start")
        return Answer(
            error="TransientError",
            message="the SQL worker stopped while the query ran (another query may have "
            "exhausted its memory); a new one is started",
            hint="retry in a moment",
        )


class SqlWorker:
    """Runs checked, limited SQL in a worker process that is replaced when it fails."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._ids = itertools.count(1)

    def start(self) -> None:
        """Start the worker now rather than at the first query."""
        with self._lock:
            self._current()

    @property
    def pid(self) -> int | None:
        """The process id of the worker taking queries now (None: none started yet)."""
        child = self._child
        return child.process.pid if child is not None else None

    def _current(self) -> _Child:
        if self._child is None or self._child.gone or self._child.retiring:
            self._child = _Child(self.settings, self._replace)
        return self._child

    def _replace(self, child: _Child) -> None:
        with self._lock:
            if self._child is child:
                self._child = _Child(self.settings, self._replace)
        child.retire()

    def submit(
        self, sql: str, max_rows: int, timeout_s: float
    ) -> tuple[_Child, int, Future[Answer]]:
        ident = next(self._ids)
        for _ in range(3):
            with self._lock:
                child = self._current()
            try:
                return child, ident, child.submit(ident, sql, max_rows, timeout_s)
            except OSError:  # it ended just now: the next one takes it
                continue
        raise TransientError("the SQL worker could not be started", hint="retry in a moment")

    async def query(
        self, sql: str, *, max_rows: int, timeout_s: float, client_gone: Awaitable[None]
    ) -> Answer:
        """Run ``sql``; interrupt it when ``client_gone`` completes first. Errors raise."""
        child, ident, future = self.submit(sql, max_rows, timeout_s)
        result = asyncio.wrap_future(future)
        gone = asyncio.ensure_future(client_gone)
        waiting: set[asyncio.Future[Any]] = {result, gone}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not result.done():
                child.send(("cancel", ident))
            answer = await result
        except asyncio.CancelledError:
            child.send(("cancel", ident))
            raise
        finally:
            gone.cancel()
        raise_for(answer)
        return answer

    def close(self) -> None:
        """Stop the worker now (it is read-only: there is nothing for it to finish)."""
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            child.kill()
            with suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=5)

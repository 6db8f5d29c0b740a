"""The SQL worker process: analysts' read-only SQL runs here, never in the server itself.

The server (``safemirror.server.sqlworker``) starts this process and sends it requests over
a pipe; it checks each query (``sandbox.check_sql``), runs it on its own read-only mirror
under the same time, row and size limits, and answers with the response body, encoded.
Its memory is capped separately (``RLIMIT_DATA``), so a query that exhausts it fails here,
not in the server. When what the process keeps of its address space leaves less than one
``memory_limit`` under its cap, it says so with the answer, and the server replaces it.

Messages in (from the server, pickled): ``("run", id, sql, max_rows, timeout_s)``,
``("cancel", id)``, ``("stop",)``. Out (``frame``: a JSON header, then the body):
``ready``, ``started`` (id; only for a query that waited for its turn), ``done`` (id, the
answer). The process exits on ``stop`` once
its queries are answered, and at once when the server's end of the pipe closes.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import duckdb

from safemirror.errors import SafemirrorError
from safemirror.metrics.mirror import MirrorPool
from safemirror.mirror.manifest import unreadable
from safemirror.policy.model import Policy
from safemirror.server.memcap import cap_process_memory, data_in_use, memory_bytes
from safemirror.server.sandbox import QueryFailed, check_sql, load_catalog, run_sql

HEADROOM = 512 << 20  # the worker hashes no keys and serves no HTTP
MAX_THREADS = 16  # requests in hand at once; the mirror pool lets its slots' worth run
QUEUED_S = 0.05  # a query that waited longer for its turn tells the server when it started


@dataclass(frozen=True)
class WorkerSettings:
    """What the worker needs to know of the project (sent once, when it starts)."""

    mirror: Path
    policy: Policy
    memory_limit: str
    threads: int | None = None


@dataclass(frozen=True)
class Answer:
    """A query's outcome: the encoded response body, or an error by its class name."""

    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    duration_ms: float = 0.0
    error: str | None = None  # QueryRefused, QueryFailed, QueryTimeout, TransientError, ...
    message: str = ""
    hint: str | None = None
    retire: bool = False  # the worker is short of memory: start another

    def header(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "body"}

    @classmethod
    def decode(cls, header: dict[str, Any], body: bytes) -> Answer:
        """An answer from its frame, each field checked (the server trusts no worker)."""
        error, hint = header.get("error"), header.get("hint")
        return cls(
            body=body,
            rows=int(header["rows"]),
            truncated=header["truncated"] is True,
            duration_ms=float(header["duration_ms"]),
            error=str(error) if error is not None else None,
            message=str(header["message"]),
            hint=str(hint) if hint is not None else None,
            retire=header["retire"] is True,
        )


def frame(header: dict[str, object], body: bytes = b"") -> bytes:
    """A message from the worker: a JSON header, a newline, then raw bytes (no pickle: the
    server never unpickles what a process running analysts' queries sends)."""
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def unframe(data: bytes) -> tuple[dict[str, Any], bytes]:
    head, _, body = data.partition(b"\n")
    header = json.loads(head)
    if not isinstance(header, dict):
        raise ValueError("not a worker message")
    return header, body


class _Worker:
    def __init__(self, conn: Connection, settings: WorkerSettings, retire_at: int) -> None:
        self.conn, self.settings, self.retire_at = conn, settings, retire_at
        self.pool = MirrorPool(
            settings.mirror, memory_limit=settings.memory_limit, threads=settings.threads
        )
        self.lock = threading.Lock()  # the bookkeeping; never held while writing
        self.send_lock = threading.Lock()  # one message at a time on the pipe
        self.running: dict[int, duckdb.DuckDBPyConnection] = {}
        self.cancelled: set[int] = set()

    def send(self, header: dict[str, object], body: bytes = b"") -> None:
        message = frame(header, body)
        with self.send_lock:
            self.conn.send_bytes(message)

    def cancel(self, ident: int) -> None:
        with self.lock:
            cursor = self.running.get(ident)
            self.cancelled.add(ident)
        if cursor is not None:
            cursor.interrupt()

    def run(self, received: float, ident: int, sql: str, max_rows: int, timeout_s: float) -> None:
        try:
            answer = self._answer(received, ident, sql, max_rows, timeout_s)
        except BaseException as exc:  # never leave the server waiting
            answer = Answer(
                error="QueryFailed",
                message=f"the query failed ({type(exc).__name__})",
                retire=isinstance(exc, MemoryError),
            )
        with self.lock:
            self.running.pop(ident, None)
            self.cancelled.discard(ident)
        retire = answer.retire or data_in_use() > self.retire_at
        answer = replace(answer, retire=retire)
        self.send({"kind": "done", "id": ident, "answer": answer.header()}, answer.body)

    def _answer(
        self, received: float, ident: int, sql: str, max_rows: int, timeout_s: float
    ) -> Answer:
        try:
            with self.pool.session() as (cursor, cache):
                with self.lock:
                    if ident in self.cancelled:
                        return _cancelled()
                    self.running[ident] = cursor
                if time.monotonic() - received > QUEUED_S:  # the server times it from now
                    self.send({"kind": "started", "id": ident})
                if "catalog" not in cache:
                    cache["catalog"] = load_catalog(cursor, self.settings.policy)
                text = check_sql(sql, cache["catalog"])
                result = run_sql(cursor, text, max_rows=max_rows, timeout_s=timeout_s)
        except SafemirrorError as exc:
            memory = isinstance(exc, QueryFailed) and "out of memory" in exc.message.lower()
            return Answer(
                error=type(exc).__name__, message=exc.message, hint=exc.hint, retire=memory
            )
        except duckdb.InterruptException:  # not by the deadline: the client went away
            return _cancelled()
        except duckdb.Error as exc:  # outside the query: the catalog could not be read
            error = unreadable(self.settings.mirror, exc)
            return Answer(error="SourceError", message=error.message, hint=error.hint)
        body = json.dumps(
            {
                "columns": result.columns,
                "types": result.types,
                "rows": result.rows,
                "row_count": len(result.rows),
                "truncated": result.truncated,
                "duration_ms": result.duration_ms,
            },
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        ).encode()
        return Answer(body, len(result.rows), result.truncated, result.duration_ms)


def _cancelled() -> Answer:
    return Answer(error="QueryCancelled", message="the client went away; the query was stopped")


def main(conn: Connection, settings: WorkerSettings) -> None:
    """The worker's life: cap its memory, answer requests until told to stop."""
    limit = memory_bytes(settings.memory_limit)
    retire_at = data_in_use() + limit + HEADROOM
    cap_process_memory(settings.memory_limit, headroom=HEADROOM)
    worker = _Worker(conn, settings, retire_at)
    executor = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="sql")
    worker.send({"kind": "ready"})
    try:
        while True:
            message = conn.recv()
            if message[0] == "run":
                executor.submit(worker.run, time.monotonic(), *message[1:])
            elif message[0] == "cancel":
                worker.cancel(message[1])
            elif message[0] == "stop":
                executor.shutdown(wait=True)
                return
    except (EOFError, OSError):  # the server is gone: nobody to answer
        os._exit(0)
    finally:
        worker.pool.close()


def boot(fd: int) -> None:
    """The worker's entry point (``python -c``): its settings come first on the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's: it stops us
    conn = Connection(fd)
    settings = conn.recv()
    assert isinstance(settings, WorkerSettings)
    main(conn, settings)

"""The sessions of one PostgreSQL source: a main session for catalog queries and
watermarks, and stream sessions, one per read in progress, kept idle between reads.

Every session is read-only, in UTC, with ``standard_conforming_strings`` on (for
``pg_sql.since_literal``) and without JIT (plain scans gain nothing from it). The stream
sessions are clones of the main one: they share the driver's database and its type table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import adbc_driver_manager
import adbc_driver_postgresql.dbapi as pgdbapi
import pyarrow as pa

from safemirror.errors import SourceError
from safemirror.sources.pg_batches import refuse_undecoded

MAX_IDLE = 2  # stream sessions kept for the next read

_PREPARE = (
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "SET TIME ZONE 'UTC'",
    "SET standard_conforming_strings = on",
    "SET jit = off",
)

ErrorFactory = Callable[..., SourceError]  # (doing, exc, hint=None) -> an error to raise


class PgSessions:
    """The main session (opened at once) and a pool of stream sessions.

    ``error(doing, exc, hint=...)`` turns a driver error into the source's error (it
    knows the redacted URL and the secrets to scrub)."""

    def __init__(self, uri: str, error: ErrorFactory) -> None:
        self._uri = uri
        self._error = error
        self._idle: list[Any] = []  # stream sessions that finished cleanly, for reuse
        self._idle_lock = threading.Lock()
        self._query_lock = threading.Lock()  # the main session serves one query at a time
        # Sessions are opened and closed one at a time: the driver counts a database's
        # open sessions without a lock, and concurrent clones or closes corrupt the count.
        self._session_lock = threading.Lock()
        self._main: Any = None
        self._main = self._connect()

    def _connect(self) -> Any:
        """A new session. The first opens the driver's database; the others share it."""
        try:
            if self._main is None:
                conn = pgdbapi.connect(self._uri, autocommit=True)
            else:
                with self._session_lock:
                    conn = self._main.adbc_clone()
                conn.adbc_connection.set_autocommit(True)
        except adbc_driver_manager.Error as exc:
            raise self._error(
                "cannot connect to the PostgreSQL source",
                exc,
                hint="check that the server runs and that host, port, database "
                "and user in the source URL are right",
            ) from None
        try:
            with conn.cursor() as cur:
                for statement in _PREPARE:
                    cur.execute(statement)
        except adbc_driver_manager.Error as exc:
            self._close(conn)
            raise self._error("cannot prepare the PostgreSQL session", exc) from None
        return conn

    def _close(self, conn: Any) -> None:
        with self._session_lock:
            conn.close()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> pa.Table:
        """Run ``sql`` on the main session (one statement at a time, from any thread)."""
        try:
            with self._query_lock, self._main.cursor() as cur:
                cur.execute(sql, parameters=params or None)
                result = cur.fetch_arrow_table()
                refuse_undecoded(result.schema)
                return result
        except adbc_driver_manager.Error as exc:
            raise self._error("query failed", exc) from None

    def succeeds(self, sql: str) -> bool:
        """Whether ``sql`` runs without an error on the main session."""
        try:
            with self._query_lock, self._main.cursor() as cur:
                cur.execute(sql)
                cur.fetch_arrow_table()
            return True
        except adbc_driver_manager.Error:
            return False

    def take(self) -> Any:
        """An idle stream session, or a new one."""
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def release(self, conn: Any, *, reusable: bool) -> None:
        """Keep a session whose stream ended cleanly; close one left mid-stream."""
        if reusable:
            with self._idle_lock:
                if len(self._idle) < MAX_IDLE:
                    self._idle.append(conn)
                    return
        self._close(conn)

    def open_ahead(self, count: int) -> None:
        """Start up to ``count`` stream sessions now and keep them idle (at most
        ``MAX_IDLE``)."""
        while True:
            with self._idle_lock:
                if len(self._idle) >= min(count, MAX_IDLE):
                    return
            self.release(self._connect(), reusable=True)

    def close(self) -> None:
        """Close every session, idle ones and the main one."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)
        self._close(self._main)

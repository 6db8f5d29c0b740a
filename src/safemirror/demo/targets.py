"""Where generated rows go: PostgreSQL (binary COPY through ADBC) or a SQLite file.

A writer is all-or-nothing. PostgreSQL: one transaction creates, loads, keys and indexes the
tables — a failure rolls it all back. SQLite: rows go into a fresh temporary file next to the
target, which replaces the target only when complete (or, if the target holds unrelated
tables, is copied into it in one transaction).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import pyarrow as pa

from safemirror.demo import strings
from safemirror.demo.schema import TABLES, create_ddl, post_load_ddl
from safemirror.errors import ConflictError, SourceError, UsageError
from safemirror.sources.common import refuse_fragment, sqlite_path, sqlite_url, with_query

_HINT_URL = "use sqlite:///path/to/file.db or postgresql://user@host:5432/dbname"


@dataclass(frozen=True)
class Target:
    """A parsed target URL."""

    kind: Literal["postgresql", "sqlite"]
    url: str  # as given (PostgreSQL) — may hold a password, never print it
    path: Path | None = None  # SQLite file

    @property
    def display(self) -> str:
        """The URL without its password, for messages."""
        if self.kind == "sqlite":
            return sqlite_url(self.path) if self.path is not None else self.url
        return redact(self.url)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def parse_target(url: str) -> Target:
    """Parse ``sqlite:///file.db`` or ``postgresql://…``; anything else is a usage error."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        refuse_fragment(url)  # as the source does (libpq checks the query string itself)
        return Target("postgresql", url)
    if scheme == "sqlite":
        raw = url.split("://", 1)[1]
        if not raw.startswith("/") or raw in ("/", "/:memory:"):
            raise UsageError(f"SQLite target {url!r} names no file", hint=_HINT_URL)
        try:  # the file ``sync`` reads from the same URL
            path = sqlite_path("sqlite" + url[len(scheme) :])
        except SourceError as exc:
            raise UsageError(exc.message, hint=exc.hint) from None
        if str(path) in ("", ".", ":memory:"):
            raise UsageError(f"SQLite target {url!r} names no file", hint=_HINT_URL)
        return Target("sqlite", url, path)
    shown = scheme or redact(url)
    raise UsageError(f"unknown target URL scheme {shown!r}", hint=_HINT_URL)


class Writer(Protocol):
    """Receives chunks of rows; ``commit`` publishes them, ``abort`` leaves no trace."""

    def write(self, table: str, data: pa.Table) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


def open_writer(target: Target, *, replace: bool) -> Writer:
    """Connect, refuse a target holding the tables unless ``replace``, create the tables."""
    if target.kind == "postgresql":
        return PostgresWriter(target, replace=replace)
    return SqliteWriter(target, replace=replace)


def with_connect_timeout(url: str, seconds: int = 10) -> str:
    """``url`` with a libpq ``connect_timeout`` unless it sets one."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    query.setdefault("connect_timeout", str(seconds))
    return with_query(url, query)


def connect_postgres(target: Target, *, autocommit: bool = False) -> Any:
    """An ADBC connection to ``target`` or a ``SourceError`` saying why not."""
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi as pg

    try:
        return pg.connect(with_connect_timeout(target.url), autocommit=autocommit)
    except adbc_driver_manager.Error as exc:
        reason = str(exc).strip().splitlines()[0].removeprefix("IO: [libpq] ")
        raise SourceError(
            f"cannot connect to PostgreSQL at {target.display}: {reason}",
            hint="check that the server is running and the URL's host, port, user and database",
        ) from None


def postgres_existing(cursor: Any) -> list[str]:
    """Which of the demo tables exist in the connection's current schema."""
    names = ", ".join(f"'{t}'" for t in TABLES)
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        f"WHERE table_schema = current_schema() AND table_name IN ({names})"
    )
    found = {row[0] for row in cursor.fetchall()}
    return [t for t in TABLES if t in found]


def _conflict(where: str, tables: list[str]) -> ConflictError:
    return ConflictError(
        f"{where} already holds {', '.join(tables)}",
        hint="pass --replace to drop and regenerate them, or choose an empty target",
    )


class PostgresWriter:
    """Everything in one transaction: create bare tables, COPY, then keys and indexes."""

    def __init__(self, target: Target, *, replace: bool) -> None:
        import adbc_driver_manager

        self._error = adbc_driver_manager.Error
        self.target = target
        self.conn = connect_postgres(target)
        self.cur = self.conn.cursor()
        try:
            existing = postgres_existing(self.cur)
            if existing and not replace:
                raise _conflict(f"PostgreSQL database {target.display}", existing)
            # server-side memory for the index builds and the foreign-key checks at the end
            self.cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            self.cur.execute("SET LOCAL work_mem = '256MB'")
            self.cur.execute("SET LOCAL synchronous_commit = off")
            for table in reversed(existing):
                self._run(f"DROP TABLE {table}")
            for table in TABLES:
                self._run(create_ddl(table, "postgresql"))
        except BaseException:
            self.abort()
            raise

    def _run(self, sql: str) -> None:
        try:
            self.cur.execute(sql)
        except self._error as exc:
            first = str(exc).strip().splitlines()[0]
            raise SourceError(
                f"PostgreSQL refused {sql.split('(', maxsplit=1)[0].strip()!r}: {first}",
                hint="check the user's privileges on the database, and that no other "
                "object depends on the demo tables",
            ) from None

    def write(self, table: str, data: pa.Table) -> None:
        self.cur.adbc_ingest(table, data, mode="append")

    def commit(self) -> None:
        try:
            for table in TABLES:
                for stmt in post_load_ddl(table, "postgresql"):
                    self._run(stmt)
            self._run("ANALYZE " + ", ".join(TABLES))
            self.conn.commit()
        except BaseException:
            self.abort()
            raise
        self._close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.rollback()
        self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self.cur.close()
        with contextlib.suppress(Exception):
            self.conn.close()


def sqlite_tables(path: Path) -> list[str]:
    """Tables in an existing SQLite file (ConflictError if it is not a database)."""
    try:
        uri = f"file:{quote(str(path))}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ConflictError(
            f"{path} exists and is not a SQLite database ({exc})",
            hint="choose another file name, or remove the file",
        ) from None
    return [r[0] for r in rows]


def sqlite_values(data: pa.Table) -> pa.Table:
    """Timestamps as ``'YYYY-MM-DD HH:MM:SS.ffffff'`` text; other columns as they are."""
    cols = []
    for col in data.columns:
        if not pa.types.is_timestamp(col.type):
            cols.append(col)
            continue
        arr = col.combine_chunks().cast(pa.int64())
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        values = arr.fill_null(0).to_numpy()
        cols.append(strings.format_timestamps(values, None if valid.all() else valid))
    return pa.Table.from_arrays(cols, names=data.column_names)


class SqliteWriter:
    """Rows go to a temporary file beside the target; ``commit`` puts it in place."""

    def __init__(self, target: Target, *, replace: bool) -> None:
        import adbc_driver_sqlite.dbapi as sq

        assert target.path is not None
        path = target.path
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise SourceError(
                f"directory {parent} does not exist", hint=f"create it first: mkdir -p {parent}"
            )
        if not os.access(parent, os.W_OK):
            raise SourceError(f"directory {parent} is not writable", hint="choose another path")
        if path.is_dir():
            raise UsageError(f"{path} is a directory", hint="give a file name, e.g. prod.db")
        existing = sqlite_tables(path) if path.exists() and path.stat().st_size else []
        ours = [t for t in TABLES if t in existing]
        if ours and not replace:
            raise _conflict(str(path), ours)
        self.path = path
        self.merge = any(t not in TABLES for t in existing)  # keep the file's other tables
        self.tmp = parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
        self.conn = sq.connect(str(self.tmp), autocommit=True)
        self.cur = self.conn.cursor()
        try:
            for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -262144"):
                self.cur.execute(f"PRAGMA {pragma}")
                self.cur.fetchall()
            for table in TABLES:
                self.cur.execute(create_ddl(table, "sqlite"))
        except BaseException:
            self.abort()
            raise

    def write(self, table: str, data: pa.Table) -> None:
        self.cur.adbc_ingest(table, sqlite_values(data), mode="append")

    def commit(self) -> None:
        try:
            for table in TABLES:
                for stmt in post_load_ddl(table, "sqlite"):
                    self.cur.execute(stmt)
            self._close()
            with open(self.tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            if self.merge:
                self._merge_into_target()
            else:
                os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._remove_tmp()

    def _merge_into_target(self) -> None:
        """Copy the tables into a target that holds other tables, in one transaction."""
        with contextlib.closing(sqlite3.connect(self.path, isolation_level=None)) as conn:
            conn.execute("ATTACH DATABASE ? AS generated", (str(self.tmp),))
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table in reversed(TABLES):
                    conn.execute(f"DROP TABLE IF EXISTS main.{table}")
                for table in TABLES:
                    conn.execute(create_ddl(table, "sqlite"))
                    conn.execute(f"INSERT INTO main.{table} SELECT * FROM generated.{table}")
                    for stmt in post_load_ddl(table, "sqlite"):
                        conn.execute(stmt)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("DETACH DATABASE generated")

    def abort(self) -> None:
        self._close()
        self._remove_tmp()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self.cur.close()
        with contextlib.suppress(Exception):
            self.conn.close()

    def _remove_tmp(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.tmp}{suffix}")

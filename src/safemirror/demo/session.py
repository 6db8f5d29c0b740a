"""An open demo database (PostgreSQL or SQLite) for reading rows and changing them in place.

One transaction per session; ``commit`` or ``rollback`` ends it. SQL text is shared between
dialects: timestamps are written as literals (``ts``) and read back as UTC microseconds
(``micros``), whatever the dialect stores them as.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.demo import strings
from safemirror.demo.schema import TABLES
from safemirror.demo.targets import (
    Target,
    connect_postgres,
    postgres_existing,
    sqlite_tables,
    sqlite_values,
)
from safemirror.demo.timeline import NULL_TS
from safemirror.errors import SourceError, UsageError
from safemirror.sources.common import sqlite_url


class Session:
    """A transaction on a database that holds the seven demo tables."""

    def __init__(self, target: Target) -> None:
        self.dialect = target.kind
        if target.kind == "postgresql":
            self.conn = connect_postgres(target)
            self.cur = self.conn.cursor()
            present = postgres_existing(self.cur)
        else:
            import adbc_driver_sqlite.dbapi as sq

            assert target.path is not None
            if not target.path.is_file():
                raise SourceError(
                    f"{target.path} does not exist",
                    hint="generate it first: safemirror demo generate --target "
                    + sqlite_url(target.path),
                )
            present = [t for t in TABLES if t in sqlite_tables(target.path)]
            self.conn = sq.connect(str(target.path))
            self.cur = self.conn.cursor()
        missing = [t for t in TABLES if t not in present]
        if missing:
            self.close()
            raise UsageError(
                f"{target.display} lacks the demo tables {', '.join(missing)}",
                hint="generate them first with safemirror demo generate",
            )

    def query(self, sql: str) -> pa.Table:
        """Rows of ``sql`` as an Arrow table."""
        self.cur.execute(sql)
        table: pa.Table = self.cur.fetch_arrow_table()
        return table

    def scalar(self, sql: str) -> Any:
        """The single value ``sql`` returns."""
        self.cur.execute(sql)
        row = self.cur.fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str) -> None:
        self.cur.execute(sql)

    def ingest(self, table: str, data: pa.Table) -> None:
        """Append ``data`` (generator schema) to ``table``."""
        rows = data if self.dialect == "postgresql" else sqlite_values(data)
        self.cur.adbc_ingest(table, rows, mode="append")

    def temp(self, name: str, data: pa.Table) -> None:
        """A temporary table ``name`` holding ``data`` (replaced if it exists)."""
        self.cur.execute(f"DROP TABLE IF EXISTS {name}")
        self.cur.adbc_ingest(name, data, mode="create", temporary=True)

    def ts(self, micros: int) -> str:
        """A SQL literal for the instant ``micros``."""
        text = strings.format_timestamps(np.array([micros], dtype=np.int64))[0].as_py()
        return f"TIMESTAMPTZ '{text}+00'" if self.dialect == "postgresql" else f"'{text}'"

    @staticmethod
    def micros(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
        """Timestamps (native or SQLite text) as UTC microseconds; NULL as ``NULL_TS``."""
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.cast(column, pa.timestamp("us"))
        values = pc.cast(column, pa.int64())
        return np.asarray(pc.fill_null(values, NULL_TS).to_numpy(), dtype=np.int64)

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.rollback()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.cur.close()
        with contextlib.suppress(Exception):
            self.conn.close()

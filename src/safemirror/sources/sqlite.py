"""SQLite source (``sqlite:///relative.db`` or ``sqlite:////abs/path.db``), opened read-only.

Batches come from ADBC's SQLite driver: on a 2 M-row table of 9 columns (ints, ISO text
timestamps, texts, real, boolean) it reads 0.74-0.77 M rows/s at 143 MB peak RSS, against
0.25 M rows/s and 205 MB for Python's ``sqlite3`` with ``fetchmany`` and ``pa.array``;
this class, timestamp parsing included, 0.48-0.53 M rows/s on a busy machine, 177 MB.
The driver infers each column's type from its first batch, so a column that starts with
NULLs (``deleted_at``) would break the stream; every query therefore begins with one typed
marker row, dropped before conversion. Timestamps stored as ISO text
('YYYY-MM-DD HH:MM:SS[.ffffff]', 'T' or space, optional 'Z'/'+HH:MM'; no offset means
UTC) are parsed by Arrow, vectorized.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import adbc_driver_manager
import adbc_driver_sqlite.dbapi as sqlite_dbapi
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.errors import SourceError
from safemirror.sources import driver_stops
from safemirror.sources.base import ColumnInfo, TableInfo
from safemirror.sources.common import (
    arrow_schema,
    coerce_since,
    columns_of,
    cursor_mark,
    cursor_type,
    held_back,
    match_folded,
    quote_ident,
    rechunk,
    redact_url,
    repaired_note,
    repaired_text,
    sqlite_path,
    table_info,
)
from safemirror.sources.sqlite_errors import BUSY_TIMEOUT_MS, sqlite_trouble, unopenable
from safemirror.sources.sqlite_values import (
    canonical,
    logical_type,
    rounds_numbers,
    select_list,
    stored_as_text,
)

driver_stops.install()  # Ctrl-C during a driver call stops the command

_NOT_SQLITES = "name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"  # SQLite's own tables

_SCALAR = {
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "bigint": pa.int64(),
    "integer": pa.int64(),
    "double": pa.float64(),
    "text": pa.string(),
}
_SLACK_DAYS = 0.00002  # julianday() is a float; the exact comparison happens in Arrow
_MISMATCH = re.compile(r"column (\d+)")
_BATCH_BYTES = 64 * 1024 * 1024  # about the most one batch of the driver's should hold
_WIDTH_SAMPLE = 256  # rows whose text and blob lengths estimate a table's row width


def _from_time(column: str, start: str) -> str:
    """SQL keeping the rows whose time in ``column`` may be at or after ``start`` (a Julian
    day), for Arrow to compare exactly. SQLite's date functions take less than Arrow reads
    ('+0200', '+02', surrounding spaces): a time they cannot read is kept too, so that its
    row is never missed."""
    day = f"julianday({column}, 'auto')"
    return f"({day} >= {start} - {_SLACK_DAYS} OR ({day} IS NULL AND {column} IS NOT NULL))"


@contextlib.contextmanager
def _closing(cur: sqlite_dbapi.Cursor) -> Iterator[sqlite_dbapi.Cursor]:
    """``cur``, closed on the way out. A close that fails (SQLite reports a damaged file
    as the statement is finalized) is not tried again when the cursor is collected: a
    second try only prints an 'Underflow' traceback after the error."""
    try:
        yield cur
    finally:
        try:
            cur.close()
        except adbc_driver_manager.Error:
            cur._closed = True  # the driver manager's own flag; nothing is left to close
            raise


class SqliteSource:
    """A SQLite database file, never written (opened with ``mode=ro``)."""

    def __init__(self, url: str, *, base_dir: Path | None = None) -> None:
        path = sqlite_path(url)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        self.path = path.resolve()
        self.display_url = redact_url(url)
        if not self.path.is_file():
            raise SourceError(
                f"no SQLite database at {self.path} (from {self.display_url})",
                hint="check the path in the source URL; relative paths start "
                "from the project directory",
            )
        self._uri = f"file:{quote(str(self.path))}?mode=ro"
        self._db = self._open_catalog()
        self._tables: dict[str, TableInfo] | None = None
        self._repaired: set[str] = set()  # table.column: text read with U+FFFD (see notes)

    def _open_catalog(self) -> sqlite3.Connection:
        """The connection that lists tables and samples, to a file that holds a database.
        SQLite takes an empty file for an empty database (it writes the first page only
        when a table is made); a source there is a wrong path, not a database whose every
        table vanished."""
        db = None
        try:
            db = sqlite3.connect(
                self._uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
            )
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            (pages,) = db.execute("PRAGMA page_count").fetchone()
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            raise sqlite_trouble(self.path, "opening it", str(exc)) or SourceError(
                f"cannot open SQLite database {self.path}: {exc}",
                hint="is it a SQLite file, readable by this user?",
            ) from None
        if not pages:
            db.close()
            raise SourceError(
                f"{self.path} (from {self.display_url}) is an empty file, not a SQLite database",
                hint="check the path in the source URL; relative paths start from the "
                "project directory",
            )
        return db

    # -- catalog --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _asking(self, doing: str) -> Iterator[None]:
        """Turn a failure of the catalog connection while ``doing`` into a SourceError."""
        try:
            yield
        except sqlite3.Error as exc:
            raise sqlite_trouble(self.path, doing, str(exc)) or SourceError(
                f"SQLite database {self.path}: {doing} failed ({type(exc).__name__})"
            ) from None

    def tables(self) -> dict[str, TableInfo]:
        """Every user table with its columns and primary key."""
        if self._tables is None:
            with self._asking("listing its tables"):
                self._tables = self._list_tables()
        return self._tables

    def _list_tables(self) -> dict[str, TableInfo]:
        found = {}
        for name in self._ordinary_tables():
            rows = self._db.execute(  # generated columns are not listed: see README
                'SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid', (name,)
            ).fetchall()
            pk = [r[0] for r in sorted((r for r in rows if r[3]), key=lambda r: r[3])]
            cols = []
            for col, declared, notnull, key in rows:
                rowid = bool(key) and len(pk) == 1 and declared.strip().upper() == "INTEGER"
                logical = logical_type(declared, rowid)
                cols.append(
                    ColumnInfo(
                        col,
                        logical,
                        not (notnull or rowid),
                        declared or "(none)",
                        rounded=logical == "double" and rounds_numbers(declared),
                    )
                )
            exact = all(c.type in ("bigint", "integer") for c in cols if c.name in pk)
            found[name] = TableInfo(name, tuple(cols), tuple(pk), key_read_exactly=exact)
        return found

    def _kinds(self) -> dict[str, str]:
        """Each table's kind, by name: ``table`` (an ordinary one), ``virtual`` (a
        full-text or R*Tree index, whose rows a module computes) or ``shadow`` (a table
        that keeps a virtual table's data); SQLite's own tables left out."""
        try:
            rows = self._db.execute(
                "SELECT name, type FROM pragma_table_list WHERE schema = 'main' "
                f"AND type IN ('table', 'virtual', 'shadow') AND {_NOT_SQLITES}"
            ).fetchall()
        except sqlite3.OperationalError:  # SQLite before 3.37 lists no kinds of table
            rows = self._db.execute(
                "SELECT name, CASE WHEN upper(sql) LIKE 'CREATE VIRTUAL TABLE%' THEN 'virtual' "
                f"ELSE 'table' END FROM sqlite_master WHERE type = 'table' AND {_NOT_SQLITES}"
            ).fetchall()
        return {str(name): str(kind) for name, kind in sorted(rows)}

    def _ordinary_tables(self) -> list[str]:
        return [name for name, kind in self._kinds().items() if kind == "table"]

    def left_out(self) -> list[str]:
        """The virtual tables and their internal tables, which ``tables`` leaves out."""
        with self._asking("listing its tables"):
            return [name for name, kind in self._kinds().items() if kind != "table"]

    def foreign_keys(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Foreign keys, composite ones column by column: table -> column -> (referenced
        table, column). A column in several keys gives the one of fewest columns."""
        tables = self.tables()
        found: dict[str, dict[str, tuple[str, str]]] = {}
        for name in tables:
            with self._asking("listing its foreign keys"):
                rows = self._db.execute(
                    'SELECT id, seq, "from", "table", "to" FROM pragma_foreign_key_list(?)', (name,)
                ).fetchall()
            width = Counter(row[0] for row in rows)
            for _fk, seq, col, ref, to in sorted(rows, key=lambda row: (width[row[0]], row[0])):
                ref_key = tables[ref].primary_key if ref in tables else ()
                ref_col = to or (ref_key[seq] if seq < len(ref_key) else "")
                found.setdefault(name, {}).setdefault(col, (ref, ref_col))
        return found

    def _resolve(self, table: str, columns: Sequence[str]) -> tuple[TableInfo, list[ColumnInfo]]:
        info = table_info(self.tables(), table, str(self.path))
        if not columns:
            raise SourceError(f"no columns requested from table {table!r}")
        return info, columns_of(info, columns)

    def schema_of(self, table: str, columns: Sequence[str]) -> pa.Schema:
        """The Arrow schema ``read`` yields for these columns (also for an empty table)."""
        return arrow_schema(self._resolve(table, columns)[1])

    # -- streaming ------------------------------------------------------------------------

    def _stream(
        self,
        table: str,
        cols: Sequence[ColumnInfo],
        source: str,
        where: str,
        params: tuple[Any, ...],
        *,
        batch_rows: int,
    ) -> Iterator[pa.Table]:
        """Run ``SELECT cols FROM source WHERE where`` behind a typed marker row and yield
        canonical tables (column order of ``cols``)."""
        marker, select = select_list(cols)
        sql = (
            f"SELECT 1 AS marker, {marker} UNION ALL "
            f"SELECT 0, {select} FROM {source}{f' WHERE {where}' if where else ''}"
        )
        conn = self._connect(f"reading table {table!r}")
        try:
            with _closing(conn.cursor()) as cur:
                cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                cur.fetchall()
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
                cur.execute(sql, parameters=params or None)
                reader = cur.fetch_record_batch()
                try:
                    first = True
                    for raw in reader:
                        batch = raw
                        if first:
                            if not batch.num_rows or batch.column(0)[0].as_py() != 1:
                                raise SourceError("SQLite returned rows out of order")
                            batch, first = batch.slice(1), False
                        if batch.num_rows:
                            yield self._canonical(table, cols, batch)
                finally:
                    reader.close()
        except (adbc_driver_manager.Error, OSError) as exc:  # OSError: from the Arrow stream
            # The driver's words may quote a stored value: only the column is taken from them.
            match = _MISMATCH.search(str(exc))
            if match and 0 < int(match.group(1)) <= len(cols):
                raise self._misfit(table, cols[int(match.group(1)) - 1]) from None
            trouble = sqlite_trouble(self.path, f"reading table {table!r}", str(exc))
            if trouble is not None:
                raise trouble from None
            raise SourceError(
                f"reading SQLite table {table!r} failed ({type(exc).__name__})",
                hint="the stored values may not fit the declared column types",
            ) from None
        finally:
            conn.close()

    def _connect(self, doing: str) -> sqlite_dbapi.Connection:
        """A driver connection for one read (see ``sqlite_errors.unopenable``)."""
        try:
            return sqlite_dbapi.connect(self._uri)
        except (adbc_driver_manager.Error, OSError) as exc:
            raise unopenable(self.path, doing, str(exc)) from None

    def _canonical(self, table: str, cols: Sequence[ColumnInfo], batch: pa.RecordBatch) -> pa.Table:
        arrays = []
        integers = iter(batch.columns[1 + len(cols) :])  # numeric columns' (``select_list``)
        for i, col in enumerate(cols):
            values = batch.column(i + 1)
            if stored_as_text(values, col):
                raise self._misfit(table, col)
            if pa.types.is_string(values.type) and (fixed := repaired_text(values)) is not None:
                values = fixed
                self._repaired.add(f"{table}.{col.name}")
            try:
                exact = next(integers) if col.type == "numeric" else None
                arrays.append(canonical(values, col, exact))
            except (pa.ArrowException, ValueError):  # its words quote the value
                raise self._misfit(table, col) from None
        return pa.Table.from_arrays(arrays, schema=arrow_schema(cols))

    def _misfit(self, table: str, col: ColumnInfo) -> SourceError:
        """The error for a column whose stored values do not read as its declared type,
        saying which storage classes it holds and how many of each (never a value)."""
        held = ""
        info = self.tables().get(table)
        if info is not None and info.column(col.name) is not None:
            with contextlib.suppress(sqlite3.Error):
                rows = self._db.execute(
                    f"SELECT typeof({quote_ident(col.name)}) AS class, count(*) "
                    f"FROM {quote_ident(table)} GROUP BY class ORDER BY class"
                ).fetchall()
                held = "; it holds " + ", ".join(f"{n:,} {c}" for c, n in rows if c != "null")
        return SourceError(
            f"SQLite table {table!r}, column {col.name!r}: stored values do not read as "
            f"its declared type {col.source_type} ({col.type}){held}",
            hint="fix the stored values or the declared type (values are never shown)",
        )

    def read(
        self,
        table: str,
        columns: Sequence[str],
        *,
        since: Any | None = None,
        cursor: Sequence[str] = (),
        skip_versions: Sequence[int] = (),  # SQLite rows carry no versions: all are read
        versions_at: Any | None = None,
        versions: set[int] | None = None,
        batch_rows: int = 131_072,
    ) -> Iterator[pa.RecordBatch]:
        """Stream ``columns``; with ``since``, rows where any cursor column is >= since."""
        info, cols = self._resolve(table, columns)
        driver_rows = self._rows_in_budget(table, cols, batch_rows)
        if since is None:
            tables = self._stream(table, cols, quote_ident(table), "", (), batch_rows=driver_rows)
            return rechunk((b for t in tables for b in t.to_batches()), batch_rows)
        if not cursor:
            raise SourceError(f"reading {table!r} since {since!r} needs cursor columns")
        ccols = columns_of(info, cursor)
        kind = cursor_type(ccols, table)
        value = coerce_since(since, kind)
        if kind in ("timestamp", "date"):
            conds = [_from_time(quote_ident(c.name), "julianday(?)") for c in ccols]
            param: Any = value.isoformat(sep=" ") if kind == "timestamp" else value.isoformat()
        else:
            conds = [f"{quote_ident(c.name)} >= ?" for c in ccols]
            param = float(value) if isinstance(value, Decimal) else value
        tables = self._stream(
            table,
            [*cols, *ccols],
            quote_ident(table),
            " OR ".join(conds),
            (param,) * len(ccols),
            batch_rows=driver_rows,
        )
        return rechunk(self._exact(tables, len(cols), kind, value), batch_rows)

    def _rows_in_budget(self, table: str, cols: Sequence[ColumnInfo], batch_rows: int) -> int:
        """How many rows the driver puts in a batch: ``batch_rows``, or fewer when the
        table's first rows say that many would take more than ``_BATCH_BYTES`` (a table of
        documents, say: the driver counts rows, never bytes)."""
        wide = [quote_ident(c.name) for c in cols if c.type in ("text", "blob")]
        if not wide:
            return batch_rows
        sizes = " + ".join(f"coalesce(length(CAST({q} AS BLOB)), 0)" for q in wide)
        with self._asking(f"reading table {table!r}"):
            (width,) = self._db.execute(
                f"SELECT avg({sizes}) FROM (SELECT {', '.join(wide)} FROM {quote_ident(table)} "
                f"LIMIT {_WIDTH_SAMPLE})"
            ).fetchone()
        row_bytes = float(width or 0) + 8 * len(cols)
        return max(1, min(batch_rows, int(_BATCH_BYTES // row_bytes)))

    @staticmethod
    def _exact(
        tables: Iterator[pa.Table], width: int, kind: str, value: Any
    ) -> Iterator[pa.RecordBatch]:
        """Keep rows where a cursor column (after ``width``) is >= ``value``; drop them."""
        if kind == "numeric":
            scalar = pa.scalar(value)
        else:
            scalar = pa.scalar(float(value) if kind == "double" else value, _SCALAR[kind])
        for found in tables:
            mask = None
            for i in range(width, found.num_columns):
                ge = pc.fill_null(pc.greater_equal(found.column(i), scalar), False)
                mask = ge if mask is None else pc.or_(mask, ge)
            kept = found.filter(mask).select(range(width))
            yield from kept.to_batches()

    # -- sampling and statistics ----------------------------------------------------------

    def max_cursor(self, table: str, cursor: Sequence[str]) -> Any | None:
        """The next watermark: the greatest value over the cursor columns (timestamps:
        aware UTC), or None; a timestamp or date held back to the present (a row stamped
        in the future must not take it past every change written until then)."""
        _, ccols = self._resolve(table, cursor)
        kind = cursor_type(ccols, table)
        best: Any = None
        for col in ccols:
            q, src = quote_ident(col.name), quote_ident(table)
            if kind in ("timestamp", "date"):
                where = _from_time(q, f"(SELECT max(julianday({q}, 'auto')) FROM {src})")
            else:
                where = f"{q} = (SELECT max({q}) FROM {src})"
            for found in self._stream(table, [col], src, where, (), batch_rows=1024):
                top = cursor_mark(pc.max(found.column(0)))
                if top is not None and (best is None or top > best):
                    best = top
        if isinstance(best, datetime):
            best = best.astimezone(UTC)
        return held_back(best, datetime.now(UTC))

    def value_counts(self, table: str, column: str, min_count: int) -> list[Any]:
        """Values of ``column`` occurring at least ``min_count`` times, most frequent first."""
        _, (col,) = self._resolve(table, [column])
        q = quote_ident(col.name)
        counted = (
            f"(SELECT {q}, count(*) AS n FROM {quote_ident(table)} WHERE {q} IS NOT NULL "
            f"GROUP BY {q} HAVING count(*) >= ?)"
        )
        counts = ColumnInfo("n", "bigint", False, "INTEGER")
        parts = list(
            self._stream(table, [col, counts], counted, "", (int(min_count),), batch_rows=65_536)
        )
        if not parts:
            return []
        found = pa.concat_tables(parts).sort_by([("n", "descending"), (col.name, "ascending")])
        values: list[Any] = found.column(0).to_pylist()
        return values

    def matching(self, table: str, column: str, folded: Sequence[str]) -> list[str]:
        """The distinct folded values (``folding``) of ``column`` that are in ``folded``.
        SQLite's ``lower()`` folds ASCII only, so the folding happens in Arrow, batch by
        batch."""
        self._resolve(table, [column])
        return match_folded(self.read(table, [column]), folded)

    def sample(self, table: str, columns: Sequence[str], rows: int) -> pa.Table:
        """Up to ``rows`` rows spread evenly over the table (every k-th rowid)."""
        _, cols = self._resolve(table, columns)
        src = quote_ident(table)
        with self._asking(f"sampling table {table!r}"):
            total = self._db.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
            step = max(1, total // max(rows, 1))
            try:
                self._db.execute(f"SELECT rowid FROM {src} LIMIT 1").fetchall()
                spread = f"(SELECT * FROM {src} WHERE rowid % ? = 0 LIMIT ?)"
                params: tuple[Any, ...] = (step, rows)
            except sqlite3.OperationalError:  # a WITHOUT ROWID table
                spread, params = f"(SELECT * FROM {src} LIMIT ?)", (rows,)
        parts = list(self._stream(table, cols, spread, "", params, batch_rows=65_536))
        return pa.concat_tables(parts) if parts else arrow_schema(cols).empty_table()

    def notes(self) -> list[str]:
        """What the user should know about this source's reads so far (see ``HasNotes``)."""
        return repaired_note(self._repaired)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""PostgreSQL source: ADBC's libpq driver, which streams ``COPY ... TO STDOUT (FORMAT
binary)`` straight into Arrow record batches.

It was the fastest of the readers measured (BENCHMARKS.md, "The PostgreSQL reader").

A query with bind parameters makes the driver leave COPY and buffer the whole result, so
``since`` is written into the query as a typed literal (``pg_sql.since_literal``):
rendered from the coerced Python value, checked against the shape its type allows, text
quoted with ``standard_conforming_strings`` forced on. A literal, unlike a bound or session
value, lets the planner see how few rows an incremental read wants and use the cursor's
index (a generic plan assumed a third of the table and scanned it all). The rows at
exactly ``since`` that the last run read are left out by their versions (``pg_sql``).
The sessions are read-only and in UTC (``pg_sessions``).
"""

from __future__ import annotations

# The driver looks its library up through importlib.resources on first connect (1.8 through
# the importlib_resources backport): load that machinery with this module, not inside the
# first sync.
import importlib.resources.readers  # noqa: F401
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import adbc_driver_manager
import pyarrow as pa

from safemirror.errors import AccessDenied, SourceError
from safemirror.sources import driver_stops
from safemirror.sources.base import ColumnInfo, TableInfo
from safemirror.sources.common import (
    arrow_schema,
    cast_batch,
    columns_of,
    cursor_mark,
    estimated_row_bytes,
    folded_bound,
    held_back,
    match_folded,
    quote_ident,
    rechunk,
    redact_url,
    repair_text,
    repaired_note,
    scrub,
    table_info,
    url_secrets,
    with_query,
)
from safemirror.sources.common import (
    coerce_since as _coerce_since,
)
from safemirror.sources.common import (
    cursor_type as _cursor_type,
)
from safemirror.sources.folding import PROBE, fold_sql, sql_literal
from safemirror.sources.pg_batches import refuse_undecoded, restore_infinities, take_versions
from safemirror.sources.pg_errors import out_of_range_hint, withheld
from safemirror.sources.pg_notes import read_notes
from safemirror.sources.pg_sessions import PgSessions
from safemirror.sources.pg_sql import (
    AT_MARK_ROWS,
    COLUMNS_SQL,
    FOREIGN_KEYS_SQL,
    GENERATED_SQL,
    OPEN_SINCE_SQL,
    PRIMARY_KEYS_SQL,
    SCHEMA_SQL,
    SINCE_CAST,
    cursor_condition,
    floor_to_precision,
    greatest_sql,
    logical_type,
    select_expr,
    since_literal,
    version_column,
    versions_at_mark,
    zoneless_since,
)
from safemirror.sources.pg_versions import versions_before

try:  # the 1.8 driver looks its library up through the importlib_resources backport
    import importlib_resources.future.adapters
    import importlib_resources.readers  # noqa: F401
except ImportError:  # a driver that uses the standard library's, loaded above
    pass

driver_stops.install()  # Ctrl-C during a driver call stops the command

_MARKS_PER_QUERY = 500  # greatest values taken in one SELECT (PostgreSQL allows 1,664 columns)


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return list(zip(*(col.to_pylist() for col in table.columns), strict=True))


class PostgresSource:
    """A PostgreSQL database schema (default ``public``) read as canonical Arrow batches."""

    def __init__(self, url: str, *, schema: str = "public", connect_timeout: int = 10) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.schema = query.pop("schema", schema)
        query.setdefault("connect_timeout", str(connect_timeout))
        self._secrets = url_secrets(url)
        self.display_url = redact_url(url)
        self._tables: dict[str, TableInfo] | None = None
        self._pgtypes: dict[str, dict[str, str]] = {}  # table -> column -> base type name
        self._base_spelled: dict[str, dict[str, str]] = {}  # ... -> base type as spelled
        self._collation: str | None = None  # the one verify folds in ('': none)
        self._versioned: bool | None = None  # whether rows carry ``xmin`` (not on look-alikes)
        self._by_column: dict[str, bool | None] = {}  # tables read by column privileges: xmin?
        self._unseen = 0  # the most sessions of other roles a watermark could not see into
        self._standby = False  # a watermark was taken on a standby (see ``notes``)
        self._filtered: set[str] = set()  # tables whose rows row-level security filters
        self._filtered_read: set[str] = set()  # ... that a read has read
        self._loose_text = False  # the database keeps text as bytes (SQL_ASCII)
        self._repaired: set[str] = set()  # table.column: text read with U+FFFD (see notes)
        self._sessions = PgSessions(with_query(url, query), self._error)

    # -- plumbing -------------------------------------------------------------------------

    def _error(self, doing: str, exc: BaseException, hint: str | None = None) -> SourceError:
        message = withheld(exc) or scrub(str(exc).strip(), self._secrets)
        if getattr(exc, "sqlstate", None) == "42501":  # insufficient_privilege
            return AccessDenied(
                f"{doing} ({self.display_url}): {message}",
                hint=hint
                or "grant the source URL's role SELECT on that table, or skip it in the policy",
            )
        return SourceError(f"{doing} ({self.display_url}): {message}", hint=hint)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> pa.Table:
        """Run ``sql`` on the main session (one statement at a time, from any thread)."""
        return self._sessions.query(sql, params)

    def _qualified(self, table: str) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(table)}"

    def _expr(self, sql: str, table: str, col: ColumnInfo) -> str:
        return select_expr(sql, self._pgtypes[table][col.name], col.type)

    def _numeric(self, table: str, col: ColumnInfo) -> bool:
        return self._pgtypes[table][col.name] == "numeric"

    def _select_list(self, table: str, cols: Sequence[ColumnInfo]) -> str:
        return ", ".join(
            f"{self._expr(quote_ident(c.name), table, c)} AS {quote_ident(c.name)}" for c in cols
        )

    def _resolve(self, table: str, columns: Sequence[str]) -> tuple[TableInfo, list[ColumnInfo]]:
        info = table_info(self.tables(), table, f"schema {self.schema!r} of {self.display_url}")
        if not columns:
            raise SourceError(f"no columns requested from table {table!r}")
        return info, columns_of(info, columns)

    # -- the Source protocol --------------------------------------------------------------

    def tables(self) -> dict[str, TableInfo]:
        """Every ordinary or partitioned table of the schema (partitions excluded)."""
        if self._tables is not None:
            return self._tables
        cols: dict[str, list[ColumnInfo]] = {}
        for row in _rows(self._query(COLUMNS_SQL, (self.schema,))):
            rel, att, notnull, typname, typmod, spelled, base, readable, filtered, whole = row
            if filtered:
                self._filtered.add(rel)
            if not whole:  # column privileges: xmin too only if granted (see _rows_versioned)
                self._by_column[rel] = None
            logical, source_type = logical_type(typname, typmod, spelled)
            rounded = typname == "numeric" and logical == "double"
            info = ColumnInfo(att, logical, not notnull, source_type, bool(readable), rounded)
            cols.setdefault(rel, []).append(info)
            self._pgtypes.setdefault(rel, {})[att] = typname
            self._base_spelled.setdefault(rel, {})[att] = base
        if not cols and not self._query(SCHEMA_SQL, (self.schema,)).num_rows:
            raise SourceError(
                f"schema {self.schema!r} does not exist in {self.display_url}",
                hint="check ?schema= in the source URL (without it: public)",
            )
        encoding = self._query("SELECT current_setting('server_encoding')").column(0)[0]
        self._loose_text = encoding.as_py() == "SQL_ASCII"
        keys: dict[str, list[str]] = {}
        for rel, att in _rows(self._query(PRIMARY_KEYS_SQL, (self.schema,))):
            keys.setdefault(rel, []).append(att)
        self._tables = {}
        for name, columns in cols.items():
            key = tuple(keys.get(name, ()))
            exact = not any(c.rounded for c in columns if c.name in key)
            self._tables[name] = TableInfo(name, tuple(columns), key, key_read_exactly=exact)
        return self._tables

    def foreign_keys(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Foreign keys, composite ones column by column: table -> column -> (referenced
        table, column). A column in several keys gives the one of fewest columns."""
        found: dict[str, dict[str, tuple[str, str]]] = {}
        for rel, att, ref, ref_att in _rows(self._query(FOREIGN_KEYS_SQL, (self.schema,))):
            found.setdefault(rel, {}).setdefault(att, (ref, ref_att))
        return found

    def generated_columns(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """Generated columns: table -> column -> the columns its expression reads."""
        found: dict[str, dict[str, tuple[str, ...]]] = {}
        for rel, att, inputs in _rows(self._query(GENERATED_SQL, (self.schema,))):
            found.setdefault(rel, {})[att] = tuple(inputs)
        return found

    def schema_of(self, table: str, columns: Sequence[str]) -> pa.Schema:
        """The Arrow schema ``read`` yields for these columns (also for an empty table)."""
        return arrow_schema(self._resolve(table, columns)[1])

    def read(
        self,
        table: str,
        columns: Sequence[str],
        *,
        since: Any | None = None,
        cursor: Sequence[str] = (),
        skip_versions: Sequence[int] = (),
        versions_at: Any | None = None,
        versions: set[int] | None = None,
        batch_rows: int = 131_072,
    ) -> Iterator[pa.RecordBatch]:
        """Stream ``columns``; with ``since``, rows where any cursor column is >= since.
        Rows are versioned by ``xmin``: see ``Source.read`` and ``pg_sql``."""
        info, cols = self._resolve(table, columns)
        if table in self._filtered:
            self._filtered_read.add(table)
        select, where, at_mark = self._select_list(table, cols), "", None
        recording = versions is not None and versions_at is not None
        if (recording or skip_versions) and not self._rows_versioned(table):
            recording, skip_versions = False, ()
        if since is not None or recording:
            if not cursor:
                raise SourceError(f"reading {table!r} by its cursor needs cursor columns")
            ccols = columns_of(info, cursor)
            kind = _cursor_type(ccols, table)
            casts = []
            for c in ccols:
                naive = kind == "timestamp" and self._pgtypes[table][c.name] == "timestamp"
                casts.append(
                    (quote_ident(c.name), SINCE_CAST["timestamp_naive" if naive else kind])
                )
            if since is not None:
                literal = since_literal(_coerce_since(since, kind), kind)
                where = " WHERE " + cursor_condition(casts, literal, skip_versions)
            if recording:
                at = since_literal(_coerce_since(versions_at, kind), kind)
                if since is None:  # a read in full: looked up before it (see pg_sql)
                    at_mark = versions_at_mark(self._qualified(table), casts, at, AT_MARK_ROWS)
                else:
                    select += ", " + version_column(casts, at)
        sql = f"SELECT {select} FROM {self._qualified(table)}{where}"
        hint = max(64 * 1024, min(256 * 1024 * 1024, batch_rows * estimated_row_bytes(cols)))
        return self._stream(
            sql,
            arrow_schema(cols),
            batch_rows=batch_rows,
            hint_bytes=hint,
            table=table,
            versions=versions if recording and at_mark is None else None,
            before=(at_mark, versions) if at_mark and versions is not None else None,
            doubles=[c.name for c in cols if c.type == "double" and self._numeric(table, c)],
        )

    def _stream(
        self,
        sql: str,
        schema: pa.Schema,
        *,
        batch_rows: int,
        hint_bytes: int,
        table: str,
        versions: set[int] | None = None,
        before: tuple[str, set[int]] | None = None,
        doubles: Sequence[str] = (),
    ) -> Iterator[pa.RecordBatch]:
        """``sql``'s rows cast to ``schema``; with ``versions``, its last column holds row
        versions, which are added to that set and left out of the batches. ``before``: a
        query of row versions to run first, and the set they go into. ``doubles``: the
        numeric columns read, which a value out of range may be in."""
        conn = self._sessions.take()  # one per stream: others may query meanwhile
        finished = False
        try:
            with conn.cursor() as cur:
                if before is not None:
                    versions_before(cur, *before)
                cur.adbc_statement.set_options(
                    **{"adbc.postgresql.batch_size_hint_bytes": str(hint_bytes)}
                )
                cur.execute(sql)
                reader = cur.fetch_record_batch()
                try:
                    refuse_undecoded(reader.schema)
                    for batch in rechunk(reader, batch_rows):
                        rows = batch if versions is None else take_versions(batch, versions)
                        rows = self._valid_text(table, rows)
                        yield cast_batch(restore_infinities(rows), schema, f"table {table!r}")
                finally:
                    reader.close()
            finished = True
        except (adbc_driver_manager.Error, pa.ArrowException) as exc:
            hint = out_of_range_hint(exc, doubles)
            raise self._error(f"reading table {table!r} failed", exc, hint) from None
        finally:
            self._sessions.release(conn, reusable=finished)

    def _valid_text(self, table: str, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` of ``table``, its text made valid UTF-8 where the database does not
        check it (SQL_ASCII; see ``repair_text``)."""
        if not self._loose_text:
            return batch
        batch, repaired = repair_text(batch)
        self._repaired.update(f"{table}.{column}" for column in repaired)
        return batch

    def open_streams(self, count: int) -> None:
        """Start up to ``count`` stream sessions now and keep them idle for the reads to
        come (a session takes milliseconds to start), so the first reads need not wait."""
        self._sessions.open_ahead(count)

    def max_cursor(self, table: str, cursor: Sequence[str]) -> Any | None:
        """The next watermark: the greatest value over the cursor columns (timestamps:
        aware UTC), or None; a timestamp or date held back to the earliest instant a row
        not visible yet can carry (``common.held_back``)."""
        return self.max_cursors({table: cursor})[table]

    def max_cursors(self, cursors: Mapping[str, Sequence[str]]) -> dict[str, Any | None]:
        """``max_cursor`` of every table in ``cursors`` (table → cursor columns), in two
        queries for up to ``_MARKS_PER_QUERY`` tables: the open transactions, then every
        greatest value."""
        resolved = {table: self._resolve(table, cursor)[1] for table, cursor in cursors.items()}
        for table, ccols in resolved.items():
            _cursor_type(ccols, table)
        if not resolved:
            return {}
        # Asked first: a transaction that starts after this is later than what it says,
        # and one that commits before the greatest values are taken is counted in them.
        activity = self._query(OPEN_SINCE_SQL)
        open_since = activity.column(0)[0].as_py()
        self._unseen = max(self._unseen, int(activity.column(1)[0].as_py() or 0))
        self._standby = self._standby or bool(activity.column(2)[0].as_py())
        open_wall = activity.column(3)[0].as_py()
        marks: dict[str, Any | None] = {}
        listed = list(resolved.items())
        for start in range(0, len(listed), _MARKS_PER_QUERY):
            chunk = listed[start : start + _MARKS_PER_QUERY]
            columns, fields = [], []
            for i, (table, ccols) in enumerate(chunk):
                typed = [(c.name, self._pgtypes[table][c.name]) for c in ccols]
                greatest = greatest_sql(self._qualified(table), typed)
                columns.append(f"{self._expr(greatest, table, ccols[0])} AS m{i}")
                fields.append(ColumnInfo(f"m{i}", ccols[0].type, True, ccols[0].source_type))
            found = self._query(f"SELECT {', '.join(columns)}").cast(arrow_schema(fields))
            for i, (table, ccols) in enumerate(chunk):
                value = cursor_mark(found.column(i)[0])
                if isinstance(value, datetime):
                    value = value.astimezone(UTC)
                typnames = [self._pgtypes[table][c.name] for c in ccols]
                since = zoneless_since(open_since, open_wall, typnames)
                since = floor_to_precision(
                    since, [self._base_spelled[table][c.name] for c in ccols]
                )
                marks[table] = held_back(value, since)
        return marks

    def notes(self) -> list[str]:
        """What the user should know about this source's reads so far (see ``HasNotes``)."""
        notes = read_notes(standby=self._standby, unseen=self._unseen, filtered=self._filtered_read)
        return notes + repaired_note(self._repaired)

    def value_counts(self, table: str, column: str, min_count: int) -> list[Any]:
        """Values of ``column`` occurring at least ``min_count`` times, most frequent first."""
        _, (col,) = self._resolve(table, [column])
        q = quote_ident(col.name)
        sql = (
            f"SELECT {self._expr('v', table, col)} AS {q} FROM (SELECT {q} AS v, count(*) AS n "
            f"FROM {self._qualified(table)} WHERE {q} IS NOT NULL GROUP BY {q} "
            f"HAVING count(*) >= $1) AS counted ORDER BY n DESC, v"
        )
        result = self._query(sql, (int(min_count),)).cast(arrow_schema([col]))
        return [v for b in result.to_batches() for v in self._valid_text(table, b)[0].to_pylist()]

    def matching(self, table: str, column: str, folded: Sequence[str]) -> list[str]:
        """The distinct folded values (``folding``) of ``column`` that are in ``folded``: a
        hash semi-join in the server (``folded`` travels as one bound JSON array, only
        matches come back; a value longer than ``folded_bound`` is ruled out by its length,
        which the server knows without decompressing it, before it is folded). The server
        folds in a collation of its own whose lower case passes ``folding.PROBE`` (ICU's
        root locale, else the database's default), never the column's (a column in
        ``"C"`` folds ASCII only, one in Turkish folds 'I' to 'ı'). A server with no such
        collation (a C-locale database without ICU) would miss 'Élodie', so there the
        column streams and Arrow folds it instead."""
        _, (col,) = self._resolve(table, [column])
        if not folded:
            return []
        collation = self._fold_collation()
        if collation is None:
            return match_folded(self.read(table, [column]), folded)
        text = f"({quote_ident(col.name)})::text"
        fold = fold_sql(text, collation)
        sql = (
            f"SELECT DISTINCT {fold} AS v FROM {self._qualified(table)} "
            f"WHERE octet_length({text}) <= $2::bigint AND {fold} IN "
            "(SELECT json_array_elements_text($1::json))"
        )
        wanted = (json.dumps(sorted(set(folded))), folded_bound(folded))
        found = self._query(sql, wanted).rename_columns([col.name])
        texts = [self._valid_text(table, b)[0] for b in found.to_batches()]
        return sorted(v for part in texts for v in part.to_pylist() if v is not None)

    def _rows_versioned(self, table: str) -> bool:
        """Whether rows of ``table`` come with their ``xmin``: PostgreSQL gives it (some
        servers that speak its protocol do not: asked once, of the first table read by
        version), to a role that may read it (by column privileges, if granted ``xmin``)."""
        if table in self._by_column:
            if self._by_column[table] is None:
                self._by_column[table] = self._reads_xmin(table)
            return bool(self._by_column[table]) and self._versioned is not False
        if self._versioned is None:
            self._versioned = self._reads_xmin(table)
        return self._versioned

    def _reads_xmin(self, table: str) -> bool:
        return self._sessions.succeeds(f"SELECT xmin FROM {self._qualified(table)} LIMIT 0")

    def _fold_collation(self) -> str | None:
        """The collation (quoted) whose lower case folds as ``folding`` does, asked once:
        ICU's root locale if the server has it, else the database's default; None when
        neither passes ``folding.PROBE``."""
        if self._collation is None:
            self._collation = ""
            for name in ('"und-x-icu"', '"default"'):
                probe = f"SELECT {fold_sql(sql_literal(PROBE[0]), name)} = {sql_literal(PROBE[1])}"
                try:
                    passes = bool(self._query(probe).column(0)[0].as_py())
                except SourceError:  # no such collation, or a server not in UTF-8
                    continue
                if passes:
                    self._collation = name
                    break
        return self._collation or None

    def sample(self, table: str, columns: Sequence[str], rows: int) -> pa.Table:
        """Up to ``rows`` rows, a repeatable random spread (or the whole small table)."""
        _, cols = self._resolve(table, columns)
        select = f"SELECT {self._select_list(table, cols)} FROM {self._qualified(table)}"
        estimate = self._query(
            "SELECT reltuples::float8 FROM pg_catalog.pg_class WHERE oid = $1::regclass",
            (self._qualified(table),),
        )
        total = estimate.column(0)[0].as_py() if estimate.num_rows else -1.0
        if total is None or total <= 0:
            total = (
                self._query(f"SELECT count(*) FROM {self._qualified(table)}").column(0)[0].as_py()
            )
        if total <= rows:
            found = self._query(f"{select} LIMIT $1", (rows,))  # LIMIT: the estimate may be old
        else:
            # row-level sampling scans the table: fine up to a million rows; beyond, pages
            method = "BERNOULLI" if total <= 1_000_000 else "SYSTEM"
            pct = min(100.0, 100.0 * rows * 2 / total)
            found = self._query(f"{select} TABLESAMPLE {method} ($1) REPEATABLE (7)", (pct,))
            if found.num_rows < rows // 2 and method == "SYSTEM":
                found = self._query(f"{select} TABLESAMPLE BERNOULLI ($1) REPEATABLE (7)", (pct,))
            if found.num_rows > rows:  # an even spread over the sampled rows
                step = found.num_rows / rows
                found = found.take(pa.array([int(i * step) for i in range(rows)], pa.int64()))
        schema, where = arrow_schema(cols), f"table {table!r}"
        restored = [cast_batch(restore_infinities(b), schema, where) for b in found.to_batches()]
        return pa.Table.from_batches(restored, schema)

    def close(self) -> None:
        self._sessions.close()

    def __enter__(self) -> PostgresSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The SQL the PostgreSQL source sends: catalog queries, type mapping, cursor conditions.

An incremental read takes the rows whose cursor is at or after the last watermark (the
greatest cursor value when the run started, held back to the start of the oldest
transaction then open: see ``common.held_back``). Rows at exactly the watermark were mostly
read by the run that took it, but one committed later may hold the same value, so they are
read again; without more, a bulk update's rows would be re-read on every run. So a read
also returns the version (``xmin``: the transaction that wrote the row) of each row it
takes at the new watermark, and the run records those versions with it. A transaction's
rows are visible to a read all together or not at all: every row at the watermark written
by a recorded transaction was read then, and the next read leaves such rows out. A row
written since has a new ``xmin`` and is read. Recording only some versions is always safe:
the rows of the others are read again. The run records versions only when its read covered
the new watermark (one that went back records none).

A read in full does not return versions: a column more costs it some 15–20 % of its time.
Instead, just before it starts, the versions of (up to ``AT_MARK_ROWS``) rows at the mark
are looked up, within ``AT_MARK_MS`` (an index on the cursor makes that instant; a table
scanned in vain for longer records none). Their transactions committed before the read
began, so it takes all their rows. This matters after a bulk load, whose rows share one
stamp: the first incremental run would read them all again.

Transaction ids are 32 bits and come round again only after some four billion
transactions; even then only a row stamped exactly at an old watermark could be taken for
one already read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from safemirror.errors import SourceError
from safemirror.sources.common import quote_ident, since_text

AT_MARK_ROWS = 10_000  # rows at the mark whose versions a read in full looks up, at most
AT_MARK_MS = 100  # the longest that look-up may take (it may have to scan the table)

_NATIVE = {
    "int8": "bigint",
    "int4": "integer",
    "int2": "integer",
    "float8": "double",
    "float4": "double",
    "bool": "boolean",
    "text": "text",
    "varchar": "text",
    "bpchar": "text",
    "timestamptz": "timestamp",
    "timestamp": "timestamp",
    "date": "date",
    "bytea": "blob",
}
# Types the driver returns in their canonical Arrow form already (others go through SQL).
_AS_IS = {
    "int8",
    "int4",
    "float8",
    "bool",
    "text",
    "varchar",
    "timestamptz",
    "timestamp",
    "date",
    "bytea",
}
SINCE_CAST = {
    "timestamp": "timestamptz",
    "timestamp_naive": "timestamptz AT TIME ZONE 'UTC'",
    "date": "date",
    "bigint": "bigint",
    "integer": "bigint",
    "double": "float8",
    "numeric": "numeric",
    "text": "text",
}
_LITERAL_SHAPES = {
    "timestamp": re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?\+00:00"),
    "date": re.compile(r"\d{4}-\d\d-\d\d"),
    "bigint": re.compile(r"-?\d{1,19}"),
    "integer": re.compile(r"-?\d{1,19}"),
    "double": re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?"),
    "numeric": re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?"),
}

# The earliest instant a row not visible yet can be stamped with by ``now()``: the start
# of the oldest transaction open on the database (another client's: not this session's,
# nor the server's own workers'), or the present; how many users' sessions on the
# database hide that start, as those of other roles do from a role without the privileges
# of pg_read_all_stats (the server's own workers have no user); and whether the server is
# a standby, which sees none of the transactions open on its primary; and the earliest
# wall-clock time a row not visible yet can be stamped with, on the clock of the time zone
# a session starts with (the database's default unless the role or PGTZ sets another; the
# sync's own sessions then switch to UTC), as a writer's ``now()`` lands in a column with
# no time zone: that oldest start, or the earliest wall-clock time from now on. Where
# clocks go back (the end of daylight saving time), that is the start of the hour that
# comes round again, not now: a row stamped then, in the second pass, reads earlier than
# one stamped in the first. The clock is sampled every ``WALL_STEP`` over the next day
# (time zones go back by hours at most), each sample taken back one step, so the
# earliest is never missed: without a change of offset, the samples give now.
WALL_STEP = "15 minutes"
OPEN_SINCE_SQL = f"""
WITH zone AS (SELECT reset_val AS tz FROM pg_catalog.pg_settings WHERE name = 'TimeZone'),
     clock AS (SELECT clock_timestamp() AS now),
     wall AS (
         SELECT min(s AT TIME ZONE zone.tz
                    - CASE WHEN s = clock.now THEN interval '0' ELSE interval '{WALL_STEP}' END)
                AS earliest
         FROM zone, clock,
              generate_series(clock.now, clock.now + interval '26 hours',
                              interval '{WALL_STEP}') AS s)
SELECT LEAST(min(clock.now),
             min(xact_start) FILTER (WHERE backend_type = 'client backend')) AS open_since,
       count(*) FILTER (WHERE backend_type IS NULL AND usesysid IS NOT NULL) AS unseen,
       pg_catalog.pg_is_in_recovery() AS standby,
       LEAST((min(xact_start) FILTER (WHERE backend_type = 'client backend'))
                 AT TIME ZONE min(zone.tz), min(wall.earliest)) AS open_wall
FROM zone, clock, wall
LEFT JOIN pg_catalog.pg_stat_activity
    ON datname = current_database() AND pid <> pg_backend_pid()"""

SCHEMA_SQL = "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1::name"

# A column of a domain is read as the domain's base type, found down a chain of domains
# (a domain over a domain), with the type modifier the chain sets (numeric(10,2)).
COLUMNS_SQL = """
SELECT c.relname, a.attname, a.attnotnull, bt.typname, base.typmod,
       format_type(a.atttypid, a.atttypmod) AS spelled,
       format_type(base.typid, base.typmod) AS base_spelled,
       has_column_privilege(c.oid, a.attnum, 'SELECT') AS readable,
       row_security_active(c.oid) AS filtered,
       has_table_privilege(c.oid, 'SELECT') AS whole
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
CROSS JOIN LATERAL (
    WITH RECURSIVE chain(typid, typmod, depth) AS (
        SELECT a.atttypid, a.atttypmod, 0
        UNION ALL
        SELECT d.typbasetype, CASE WHEN d.typtypmod <> -1 THEN d.typtypmod ELSE chain.typmod END,
               chain.depth + 1
        FROM chain JOIN pg_catalog.pg_type d ON d.oid = chain.typid AND d.typtype = 'd'
    )
    SELECT typid, typmod FROM chain ORDER BY depth DESC LIMIT 1
) AS base
JOIN pg_catalog.pg_type bt ON bt.oid = base.typid
WHERE n.nspname = $1::name AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname, a.attnum"""

PRIMARY_KEYS_SQL = """
SELECT c.relname, a.attname
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE i.indisprimary AND n.nspname = $1::name
ORDER BY c.relname, k.ord"""

# Only keys between the schema's own listed tables: one that references a table of
# another schema (auth.users) is not about the schema's table of that name, and one that
# references a partitioned table is repeated for each of its partitions (as confrelid,
# under other names), which are not listed.
FOREIGN_KEYS_SQL = """
SELECT c.relname, a.attname, rc.relname, ra.attname
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class rc ON rc.oid = k.confrelid
CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS u(col, refcol)
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = u.col
JOIN pg_catalog.pg_attribute ra ON ra.attrelid = rc.oid AND ra.attnum = u.refcol
WHERE k.contype = 'f' AND n.nspname = $1::name AND rc.relnamespace = n.oid
  AND NOT c.relispartition AND NOT rc.relispartition
ORDER BY 1, 2, array_length(k.conkey, 1), k.conname"""


# The columns each generated column reads (PostgreSQL 12 on): a generated column's
# expression depends on them; a default, which cannot read columns, only on its own.
GENERATED_SQL = """
SELECT c.relname, a.attname, array_agg(ra.attname::text ORDER BY ra.attnum)
FROM pg_catalog.pg_attrdef d
JOIN pg_catalog.pg_class c ON c.oid = d.adrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_catalog.pg_attrdef'::regclass
    AND dep.objid = d.oid AND dep.refclassid = 'pg_catalog.pg_class'::regclass
    AND dep.refobjid = d.adrelid AND dep.refobjsubid > 0 AND dep.refobjsubid <> d.adnum
JOIN pg_catalog.pg_attribute ra ON ra.attrelid = d.adrelid AND ra.attnum = dep.refobjsubid
WHERE n.nspname = $1::name AND c.relkind IN ('r', 'p') AND NOT a.attisdropped
GROUP BY 1, 2
ORDER BY 1, 2"""


def logical_type(typname: str, typmod: int, spelled: str) -> tuple[str, str]:
    """(policy logical type, source spelling) of a PostgreSQL column."""
    if typname == "numeric":
        if typmod >= 4:
            precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
            if precision <= 38:
                return "numeric", f"numeric({precision},{scale})"
        return "double", spelled  # unconstrained numeric -> float64, like DuckDB's scanner
    return _NATIVE.get(typname, "text"), spelled  # anything else: its text form


_TEMPORAL = frozenset({"date", "timestamp", "timestamptz"})


def greatest_sql(table: str, columns: Sequence[tuple[str, str]]) -> str:
    """The greatest value over ``columns`` (``(name, typname)``) of ``table`` (quoted), one
    ``max`` per column so that each can use its own index; a date or timestamp column's
    ``infinity`` and ``-infinity`` left out (its greatest value is a real instant)."""
    each = []
    for name, typname in columns:
        quoted = quote_ident(name)
        finite = f" WHERE isfinite({quoted})" if typname in _TEMPORAL else ""
        each.append(f"(SELECT max({quoted}) FROM {table}{finite})")
    return f"GREATEST({', '.join(each)})"


def select_expr(sql: str, typname: str, logical: str) -> str:
    """``sql`` converted so that the driver returns (or Arrow casts to) the canonical type."""
    if typname in _AS_IS:
        return sql
    casts = {"int2": "int4", "float4": "float8"}
    if typname in casts:
        return f"({sql})::{casts[typname]}"
    if typname == "numeric":
        return f"({sql})::{'text' if logical == 'numeric' else 'float8'}"
    if typname == "inet":
        return f"abbrev({sql})"  # '10.0.0.1', not text()'s '10.0.0.1/32'
    return f"({sql})::text"


def zoneless_since(
    open_since: datetime | None, open_wall: datetime | None, typnames: Sequence[str]
) -> datetime | None:
    """``open_since`` for a cursor over columns of ``typnames``: where one has no time zone
    (``timestamp``, ``date``), the earlier of it and ``open_wall`` (on a session's default
    wall clock, read as UTC like every zoneless value: the oldest open transaction's start,
    or the earliest time that clock reads from now on, see ``OPEN_SINCE_SQL``). A
    transaction's ``now()`` lands in such a column on its own time zone's wall clock, which
    west of UTC lies before the UTC instant; either may be the writers'."""
    if open_since is None or open_wall is None or not _ZONELESS.intersection(typnames):
        return open_since
    return min(open_since, open_wall.replace(tzinfo=UTC))


_ZONELESS = frozenset({"date", "timestamp"})
_PRECISION = re.compile(r"timestamp\((\d)\)")


def floor_to_precision(instant: datetime | None, spellings: Sequence[str]) -> datetime | None:
    """``instant`` rounded down to the coarsest fractional precision of the timestamp
    columns spelled ``spellings`` (``timestamp(3) with time zone``). PostgreSQL rounds a
    value to its column's precision, down by up to half a unit, so a row stamped at
    ``instant`` may hold less than ``instant``; never less than this."""
    digits = [int(m.group(1)) for s in spellings if (m := _PRECISION.match(s))]
    if instant is None or not digits:
        return instant
    unit = 10 ** (6 - min(digits))
    return instant.replace(microsecond=instant.microsecond // unit * unit)


def since_literal(value: Any, kind: str) -> str:
    """A coerced cursor value as a quoted SQL literal; anything off its type's shape is refused."""
    text = since_text(value)
    if kind == "text":
        if "\0" in text:
            raise SourceError("a text cursor value holds a NUL character")
        return "'" + text.replace("'", "''") + "'"
    shape = _LITERAL_SHAPES.get(kind)
    if shape is None or not shape.fullmatch(text):
        raise SourceError(f"cursor value {text!r} is not a valid {kind}")
    return f"'{text}'"


def cursor_condition(
    columns: Sequence[tuple[str, str]], literal: str, skip_versions: Sequence[int]
) -> str:
    """The rows a read since ``literal`` takes: any cursor column (``(quoted name, cast)``)
    at or after it, except rows whose cursor columns are all at most it and whose version
    is one of ``skip_versions`` (read already; see the module docstring)."""
    since = [f"{name} >= ({literal}::{cast})" for name, cast in columns]
    where = "(" + " OR ".join(since) + ")"
    versions = sorted({int(v) for v in skip_versions if 3 <= int(v) < 2**32})  # 0-2: special
    if versions:
        later = " OR ".join(
            f"coalesce({name} > ({literal}::{cast}), false)" for name, cast in columns
        )
        listed = ",".join(str(v) for v in versions)
        where += f" AND NOT (xmin = ANY('{{{listed}}}'::xid[]) AND NOT ({later}))"
    return where


def _at_mark(columns: Sequence[tuple[str, str]], literal: str) -> str:
    """Whether a row has a cursor column (``(quoted name, cast)``) at ``literal``."""
    return " OR ".join(f"{name} = ({literal}::{cast})" for name, cast in columns)


def version_column(columns: Sequence[tuple[str, str]], literal: str) -> str:
    """A column holding the version (``xmin``) of the rows with a cursor column (``(quoted
    name, cast)``) at ``literal``, and NULL elsewhere."""
    return f"CASE WHEN {_at_mark(columns, literal)} THEN xmin::text::bigint END AS _sm_version"


def versions_at_mark(
    qualified: str, columns: Sequence[tuple[str, str]], literal: str, rows: int
) -> str:
    """The distinct versions of (up to ``rows``) rows of the table ``qualified`` with a
    cursor column at ``literal``: what a read in full records (see the module docstring)."""
    return (
        f"SELECT DISTINCT xmin::text::bigint AS v FROM (SELECT xmin FROM {qualified} "
        f"WHERE {_at_mark(columns, literal)} LIMIT {int(rows)}) AS s"
    )

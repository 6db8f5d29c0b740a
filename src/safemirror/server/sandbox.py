"""Read-only SQL over the mirror: parse, refuse, then run the checked text under limits.

Three layers, each enough against the common attacks on its own:

1. sqlglot parses the text: exactly one statement, a SELECT (or a set operation of them);
   no DML/DDL anywhere (not even in a CTE), no SELECT INTO, no commands; every table is an
   unqualified name of a mirror table the policy opens to SQL (or a CTE of the query);
   table functions other than ``range``/``generate_series``/``unnest`` and functions that
   read files, the network, settings, the environment or other queries are refused.
2. DuckDB's own parser lists the tables the checked text touches; they must be allowed.
3. The database is read-only, with external access disabled, extensions off and the
   configuration locked (``safemirror.metrics.mirror``); a timer interrupts long queries,
   memory is capped and at most ``max_rows`` rows are returned.

What runs is sqlglot's regeneration of what it checked, never the raw text.
"""

from __future__ import annotations

import base64
import logging
import math
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from uuid import UUID

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from safemirror.errors import UsageError
from safemirror.metrics.mirror import deadline
from safemirror.policy.model import Policy

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # no "falling back to Command" noise

MAX_SQL_CHARS = 20_000
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
DENIED_FUNCTIONS = frozenset(
    {
        "query",
        "query_table",
        "getenv",
        "current_setting",
        "glob",
        "sniff_csv",
        "read_blob",
        "read_text",
        "which_secret",
        "load",
        "install",
        "setseed",
        "nextval",
        "currval",
        "version",
        "current_version",
        "current_database",
        "current_schema",
        "current_schemas",
        "current_catalog",
        "current_user",
        "session_user",
        "current_role",
        "user",
        "json_execute_serialized_sql",
        "json_serialize_sql",
        "json_deserialize_sql",
        "json_serialize_plan",  # binds (and optimizes) SQL text: hidden tables' schema, stats
        "index_key",  # names a table in a string
        "from_substrait",
        "to_substrait",
        "get_substrait",
        "get_substrait_json",
        "from_substrait_json",
        "checkpoint",
        "force_checkpoint",
        "test_all_types",
        "test_vector_types",
        "summary",
        "sql_auto_complete",
        "parquet_scan",
        "delta_scan",
        "iceberg_scan",
        "arrow_scan",
        "arrow_scan_dumb",
        "python_map_function",
        "enable_profiling",
        "disable_profiling",
        "icu_calendar_names",
        "pg_timezone_names",
        "repeat_row",
        "error",
        "txid_current",
        "has_table_privilege",
        "has_schema_privilege",
    }
)
DENIED_PREFIXES = (
    "read_",
    "duckdb_",
    "pragma_",
    "parquet_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "iceberg_",
    "delta_",
    "http",
    "s3",
    "gcs",
    "azure",
    "scan_",
    "ducklake",
    "pg_",
    "json_execute",
    "json_serialize",
    "json_deserialize",
    "__internal",
    "current_setting",
    "which_",
    "load_",
    "install_",
    "glob",
    "copy_",
    "export_",
    "import_",
)
FORBIDDEN_NODES: tuple[type, ...] = (
    exp.DML,
    exp.DDL,
    exp.Command,
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.Pragma,
    exp.Set,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Summarize,
    exp.Describe,
    exp.Show,
    exp.LoadData,
    exp.Export,
    exp.Kill,
    exp.Grant,
    exp.Revoke,
    exp.Analyze,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.Into,
    exp.TruncateTable,
)


class QueryRefused(UsageError):
    """The SQL was refused before it ran; nothing was executed."""


class QueryFailed(UsageError):
    """The SQL passed the checks but DuckDB rejected or aborted it."""


@dataclass(frozen=True)
class Catalog:
    """Which tables SQL may read in the current mirror."""

    allowed: frozenset[str]  # lower-case table names
    columns: dict[str, list[tuple[str, str]]]
    aggregate: frozenset[str] = frozenset()  # reachable through metrics only


def load_catalog(con: duckdb.DuckDBPyConnection, policy: Policy) -> Catalog:
    """Mirror tables that the policy opens to SQL (never ``_sm_*``, never aggregate-only)."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE NOT internal AND schema_name = 'main' "
        "ORDER BY table_name, column_index"
    ).fetchall()
    open_tables = {
        name.lower() for name, table in policy.mirrored_tables.items() if table.access == "sql"
    }
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        name = str(table).lower()
        if name in open_tables and not name.startswith("_sm_"):
            columns.setdefault(name, []).append((str(column), str(kind)))
    aggregate = frozenset(
        name.lower()
        for name, table in policy.mirrored_tables.items()
        if table.access == "aggregate"
    )
    return Catalog(frozenset(columns), columns, aggregate)


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    generated = node.sql(dialect="duckdb")
    head = generated.split("(", 1)[0].strip().lower()
    return head if head.replace("_", "").isalnum() else node.sql_name().lower()


def _denied(name: str) -> bool:
    return name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES)


def check_sql(sql: str, catalog: Catalog) -> str:
    """Refuse anything but one read-only SELECT over allowed tables; return the SQL to run."""
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRefused(f"the query is longer than {MAX_SQL_CHARS} characters")
    try:
        return _check(sql, catalog)
    except RecursionError:  # sqlglot parses and writes SQL recursively
        raise QueryRefused(
            "the query is nested too deeply to be checked",
            hint="flatten it: fewer nested parentheses, subqueries or expressions",
        ) from None


def _check(sql: str, catalog: Catalog) -> str:
    try:
        statements = [
            s
            for s in sqlglot.parse(sql, read="duckdb", error_level=ErrorLevel.RAISE)
            if s is not None
        ]
    except SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "syntax error"
        raise QueryRefused(
            f"the query could not be parsed: {first}", hint="send a single SELECT statement"
        ) from None
    except RecursionError:
        raise  # check_sql says "nested too deeply"
    except Exception:  # the parser itself failed on this text (a parser bug)
        raise QueryRefused(
            "the query could not be parsed", hint="send a single SELECT statement"
        ) from None
    if len(statements) != 1:
        raise QueryRefused(f"{len(statements)} statements sent; exactly one SELECT is allowed")
    tree = statements[0]
    if not isinstance(tree, exp.Select | exp.SetOperation | exp.Subquery):
        kind = type(tree).__name__.upper()
        raise QueryRefused(f"only SELECT queries are allowed (this is {kind})")
    ctes = {str(c.alias_or_name).lower() for c in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, FORBIDDEN_NODES):
            raise QueryRefused(
                f"{type(node).__name__.upper()} is not allowed: the SQL interface is read-only"
            )
        if isinstance(node, exp.Table):
            _check_table(node, catalog, ctes)
        elif isinstance(node, exp.Func):
            name = _function_name(node)
            if _denied(name):
                raise QueryRefused(
                    f"function {name}() is not allowed",
                    hint="it reaches files, the network, settings or other queries",
                )
    text = tree.sql(dialect="duckdb")
    try:
        touched = {t.lower() for t in duckdb.get_table_names(text)}
    except duckdb.Error as exc:
        raise QueryRefused(f"the query was refused: {str(exc).splitlines()[0]}") from None
    outside = sorted(touched - catalog.allowed)
    if outside:
        raise QueryRefused(
            f"table {outside[0]} is not available to SQL", hint=_tables_hint(catalog)
        )
    return text


def _tables_hint(catalog: Catalog) -> str:
    return "tables you can query: " + ", ".join(sorted(catalog.allowed))


def _check_table(node: exp.Table, catalog: Catalog, ctes: set[str]) -> None:
    if not isinstance(node.this, exp.Identifier):
        name = (
            _function_name(node.this)
            if isinstance(node.this, exp.Func)
            else type(node.this).__name__.lower()
        )
        if name not in TABLE_FUNCTIONS:
            raise QueryRefused(
                f"table function {name}() is not allowed", hint=_tables_hint(catalog)
            )
        return
    if node.args.get("db") or node.args.get("catalog"):
        raise QueryRefused(
            f"qualified table name {node.sql(dialect='duckdb')} is not allowed",
            hint=_tables_hint(catalog),
        )
    name = str(node.name).lower()
    if name in ctes:
        return
    if name.startswith("_sm_"):
        raise QueryRefused(f"table {name} is a system table and not available to SQL")
    if name in catalog.aggregate:
        raise QueryRefused(
            f"table {name} is aggregate-only: it is reachable through metrics, never through SQL",
            hint=_tables_hint(catalog),
        )
    if name not in catalog.allowed:
        raise QueryRefused(f"{name} is not a table of the mirror", hint=_tables_hint(catalog))


def jsonable(value: Any) -> Any:
    """A JSON-safe rendering of a DuckDB value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


MAX_RESULT_BYTES = 32 << 20  # about this much of values per response, whatever max_rows
FETCH_ROWS = 256  # rows converted at a time, so a result stops at the budget


def _size(value: Any) -> int:
    """Roughly how many bytes a JSON-safe value takes in the response."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, list):
        return sum(_size(v) for v in value) + 2
    if isinstance(value, dict):
        return sum(len(k) + _size(v) + 4 for k, v in value.items()) + 2
    return 8


@dataclass
class SqlResult:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    duration_ms: float


def _fetch(cursor: duckdb.DuckDBPyConnection, max_rows: int) -> tuple[list[list[Any]], bool]:
    """At most ``max_rows`` rows and ``MAX_RESULT_BYTES`` of values; whether more were left."""
    rows: list[list[Any]] = []
    size = 0
    while len(rows) < max_rows:
        chunk = cursor.fetchmany(min(FETCH_ROWS, max_rows - len(rows)))
        if not chunk:
            return rows, False
        for raw in chunk:
            row = [jsonable(v) for v in raw]
            size += _size(row)
            if size > MAX_RESULT_BYTES:
                if not rows:
                    raise QueryFailed(
                        f"the first row of the result is larger than {MAX_RESULT_BYTES >> 20} MB",
                        hint="select fewer or shorter values",
                    )
                return rows, True
            rows.append(row)
    return rows, bool(cursor.fetchmany(1))


def run_sql(
    cursor: duckdb.DuckDBPyConnection, text: str, *, max_rows: int, timeout_s: float
) -> SqlResult:
    """Run checked SQL on a read-only cursor with time, row and size limits."""
    t0 = time.perf_counter()
    with deadline(cursor, timeout_s):
        try:
            cursor.execute(text)
            columns = [d[0] for d in cursor.description or []]
            rows, truncated = _fetch(cursor, max_rows)
        except duckdb.InterruptException:
            raise  # the deadline turns it into QueryTimeout
        except duckdb.Error as exc:
            raise QueryFailed(f"the query failed: {str(exc).splitlines()[0]}") from None
        except MemoryError:
            raise QueryFailed(
                "the query failed: out of memory", hint="select fewer or shorter values"
            ) from None
    return SqlResult(columns, rows, truncated, round((time.perf_counter() - t0) * 1000, 2))

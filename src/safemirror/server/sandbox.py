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

What runs is sqlglot's regeneration of what it checked, never the raw text, read and written
in ``sqldialect.AnalystDuckDB`` so that it means what the analyst wrote.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from safemirror.errors import UsageError
from safemirror.metrics.mirror import deadline
from safemirror.policy.model import Policy
from safemirror.server.sqldialect import AnalystDuckDB
from safemirror.server.sqljson import column_types, jsonable, raw_rows
from safemirror.server.sqlnames import keep_names
from safemirror.server.sqltables import ParseError, fold_name, parsed_tables, visible_ctes

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
            for s in sqlglot.parse(sql, read=AnalystDuckDB, error_level=ErrorLevel.RAISE)
            if s is not None
        ]
    except SqlglotError as exc:
        raise _parse_error(exc, sql) from None
    except RecursionError:
        raise  # check_sql says "nested too deeply"
    except Exception:  # the parser itself failed on this text (a parser bug)
        raise QueryRefused(
            "the query could not be parsed", hint="send a single SELECT statement"
        ) from None
    if len(statements) != 1:
        raise QueryRefused(f"{len(statements)} statements sent; exactly one SELECT is allowed")
    tree = statements[0]
    if isinstance(tree, exp.Pivot | exp.Values):  # PIVOT/UNPIVOT statement, bare VALUES
        tree = _select_from(tree)
    if not isinstance(tree, exp.Select | exp.SetOperation | exp.Subquery):
        kind = type(tree).__name__.upper()
        raise QueryRefused(f"only SELECT queries are allowed (this is {kind})")
    for node in tree.walk():
        if isinstance(node, FORBIDDEN_NODES):
            raise QueryRefused(
                f"{type(node).__name__.upper()} is not allowed: the SQL interface is read-only"
            )
        if isinstance(node, exp.Table):
            _check_table(node, catalog, visible_ctes(node))
        elif isinstance(node, exp.Func):
            name = _function_name(node)
            if _denied(name):
                raise QueryRefused(
                    f"function {name}() is not allowed",
                    hint="it reaches files, the network, settings or other queries",
                )
    keep_names(tree, sql)
    text = tree.sql(dialect=AnalystDuckDB)
    outside = sorted(_tables_read(text, tree) - catalog.allowed)
    if outside:
        raise QueryRefused(
            f"table {outside[0]} is not available to SQL", hint=_tables_hint(catalog)
        )
    return text


def _select_from(query: exp.Expression) -> exp.Select:
    """``SELECT * FROM (<query>)``, its ORDER BY, LIMIT and OFFSET moved outside."""
    outside = {k: query.args.pop(k) for k in ("order", "limit", "offset") if query.args.get(k)}
    select = exp.select("*").from_(exp.Subquery(this=query))
    for key, value in outside.items():
        select.set(key, value)
    return select


def _parse_error(exc: SqlglotError, sql: str) -> QueryRefused:
    """Where the text stopped parsing, and what to do about it."""
    first = str(exc).splitlines()[0] if str(exc) else "syntax error"
    errors = getattr(exc, "errors", None) or [{}]
    near = str(errors[0].get("highlight") or "").strip()
    where = f" (near '{near[:40]}')" if near else ""
    hint = "send a single SELECT statement"
    if _starts_with_pivot(sql):
        hint = (
            "a PIVOT/UNPIVOT statement takes no ORDER BY or LIMIT here: "
            "write SELECT * FROM (PIVOT ...) ORDER BY ..."
        )
    return QueryRefused(f"the query could not be parsed: {first}{where}", hint=hint)


def _starts_with_pivot(sql: str) -> bool:
    try:
        tokens = sqlglot.tokenize(sql[:200], read="duckdb")
    except SqlglotError:
        return False
    return bool(tokens) and tokens[0].text.upper() in {"PIVOT", "UNPIVOT"}


def _tables_read(text: str, tree: exp.Expression) -> set[str]:
    """The tables (lower case) DuckDB's own parser sees ``text`` read."""
    try:
        return {t.lower() for t in duckdb.get_table_names(text)}
    except duckdb.BinderException:
        pass  # it binds against stand-in tables, which some valid queries cannot bind to
    except duckdb.InvalidInputException as exc:
        if "single statement" in str(exc) and tree.find(exp.Pivot):
            raise QueryRefused(
                "a PIVOT without the list of values to pivot on is not supported",
                hint="name the values: PIVOT t ON col IN ('a', 'b') USING count(*)",
            ) from None
        raise QueryRefused(f"the query was refused: {str(exc).splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise QueryRefused(f"the query was refused: {str(exc).splitlines()[0]}") from None
    try:
        found = parsed_tables(text)
    except (ParseError, duckdb.Error) as exc:
        raise QueryRefused(f"the query was refused: {str(exc).splitlines()[0]}") from None
    for catalog, schema, name in sorted(found):
        if catalog or schema:
            qualified = ".".join(p for p in (catalog, schema, name) if p)
            raise QueryRefused(f"qualified table name {qualified} is not allowed")
    return {name.lower() for _, _, name in found}


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
    if fold_name(str(node.name)) in ctes:
        return
    name = str(node.name).lower()
    if name.startswith("_sm_"):
        raise QueryRefused(f"table {name} is a system table and not available to SQL")
    if name in catalog.aggregate:
        raise QueryRefused(
            f"table {name} is aggregate-only: it is reachable through metrics, never through SQL",
            hint=_tables_hint(catalog),
        )
    if name not in catalog.allowed:
        raise QueryRefused(f"{name} is not a table of the mirror", hint=_tables_hint(catalog))


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
    types: list[str]
    rows: list[list[Any]]
    truncated: bool
    duration_ms: float


def _fetch(
    cursor: duckdb.DuckDBPyConnection, types: list[str], max_rows: int
) -> tuple[list[list[Any]], bool]:
    """At most ``max_rows`` rows and ``MAX_RESULT_BYTES`` of values; whether more were left."""
    rows: list[list[Any]] = []
    size = 0
    source = raw_rows(cursor, types, min(FETCH_ROWS, max_rows + 1))
    for raw in source:
        if len(rows) == max_rows:
            return rows, True
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
    return rows, False


def run_sql(
    cursor: duckdb.DuckDBPyConnection, text: str, *, max_rows: int, timeout_s: float
) -> SqlResult:
    """Run checked SQL on a read-only cursor with time, row and size limits."""
    t0 = time.perf_counter()
    with deadline(cursor, timeout_s):
        try:
            cursor.execute(text)
            columns = [d[0] for d in cursor.description or []]
            types = column_types(cursor)
            rows, truncated = _fetch(cursor, types, max_rows)
        except duckdb.InterruptException:
            raise  # the deadline turns it into QueryTimeout
        except duckdb.Error as exc:
            raise QueryFailed(f"the query failed: {str(exc).splitlines()[0]}") from None
        except MemoryError:
            raise QueryFailed(
                "the query failed: out of memory", hint="select fewer or shorter values"
            ) from None
    return SqlResult(columns, types, rows, truncated, round((time.perf_counter() - t0) * 1000, 2))

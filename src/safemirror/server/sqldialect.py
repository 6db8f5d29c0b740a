"""DuckDB as sqlglot reads and writes it, made to regenerate what the analyst wrote.

The sandbox runs sqlglot's regeneration of the query it checked, never the raw text, so
every rewrite sqlglot makes on the way must mean the same to DuckDB. sqlglot's DuckDB
dialect is built to transpile, and some of its rewrites do not: a checked query would
silently answer another question. This dialect keeps those constructs as they were written:

- function calls keep their name and arguments (``date_add(d, 5)`` is a DATE, not
  ``d + INTERVAL 5 DAY``, a TIMESTAMP; ``date_trunc(col, ts)`` keeps the column, not the
  string ``'COL'``; ``jaro_winkler_similarity(a, b, 0.9)`` keeps its cut-off and its case;
  ``reduce(l, f, init)`` keeps its argument order); only the forms with syntax of their
  own (``CAST``, ``EXTRACT``, ``TRIM``, ``SUBSTRING``, ``POSITION``, ``OVERLAY``) and
  ``COLUMNS`` are read as sqlglot reads them; ``IGNORE NULLS``, ``WITHIN GROUP`` and
  ``DISTINCT`` over several arguments stay where they were written;
- an interval string stays whole (``INTERVAL '1 day ago'`` is minus one day, not
  ``INTERVAL '1' DAY``; ``INTERVAL '3 hrs'`` stays valid);
- a JSON path after ``->``/``->>`` stays as written (``'a.b'`` is the key ``a.b`` to
  DuckDB, not the path ``$.a.b``);
- a decimal written ``.5`` stays ``.5`` (``0.5`` is one digit wider, and 38 digits after
  the point would become a DOUBLE);
- a ``SYSTEM`` or ``BERNOULLI`` sample of n rows keeps its method (sqlglot makes it a
  ``RESERVOIR`` sample);
- ``ROW(...) < ...`` is a comparison, not a type (sqlglot refused it); ``FLOAT(p)`` stays
  ``FLOAT(p)`` (sqlglot wrote ``REAL(p)``, which DuckDB does not read).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlglot import TokenType, exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.generator import Generator

# Calls whose arguments have syntax of their own; every other call stays as written.
SYNTAX_FUNCTIONS = frozenset(
    {"CAST", "TRY_CAST", "EXTRACT", "TRIM", "SUBSTRING", "POSITION", "OVERLAY"}
)
# Calls read as sqlglot's own nodes: *COLUMNS(...) needs exp.Columns to keep its star.
_KNOWN = {"COLUMNS": DuckDB.Parser.FUNCTIONS["COLUMNS"]}

_DuckDBParser: Any = DuckDB.Parser
_DuckDBGenerator: Any = DuckDB.Generator


class AnalystDuckDB(DuckDB):
    """DuckDB, regenerating each construct the way the analyst wrote it."""

    def to_json_path(self, path: Any) -> Any:
        return path  # DuckDB reads a key, a JSONPath or a JSON pointer itself

    class Parser(_DuckDBParser):  # type: ignore[misc]
        FUNCTION_PARSERS: ClassVar[dict[str, Any]] = {
            name: parser
            for name, parser in DuckDB.Parser.FUNCTION_PARSERS.items()
            if name in SYNTAX_FUNCTIONS
        }

        # apply(l, f) is a call (an alias of list_transform), not a join's APPLY
        FUNC_TOKENS: ClassVar[set[Any]] = {*DuckDB.Parser.FUNC_TOKENS, TokenType.APPLY}

        def _parse_function_call(self, functions: Any = None, *args: Any, **kwargs: Any) -> Any:
            known = _KNOWN if functions is None else functions
            return super()._parse_function_call(known, *args, **kwargs)

        def _parse_bracket(self, this: Any = None) -> Any:
            if not isinstance(this, exp.Anonymous):
                return super()._parse_bracket(this)
            # list(...)[1:2] slices a call; it does not build a LIST[...] of the slice
            self.ARRAY_CONSTRUCTORS: dict[str, Any] = {}
            try:
                return super()._parse_bracket(this)
            finally:
                del self.ARRAY_CONSTRUCTORS

        def _parse_interval_span(self, this: exp.Expression, *args: Any, **kwargs: Any) -> Any:
            interval = super()._parse_interval_span(this, *args, **kwargs)
            if (
                isinstance(this, exp.Literal)
                and this.is_string
                and interval.this is not this
                and not isinstance(interval.args.get("unit"), exp.IntervalSpan)
            ):  # sqlglot split '<n> <unit>' out of the string: keep it whole
                interval.set("this", this)
                interval.set("unit", None)
                interval.set("fraction_in_string", None)
            return interval

        def _parse_primary(self) -> Any:
            if (
                self._curr
                and self._curr.token_type == TokenType.DOT
                and self._next
                and self._next.token_type == TokenType.NUMBER
            ):
                self._advance(2)
                return exp.Literal.number(f".{self._prev.text}")
            return super()._parse_primary()

        def _parse_types(self, *args: Any, **kwargs: Any) -> Any:
            if self._row_call_compared():
                return None
            return super()._parse_types(*args, **kwargs)

        def _row_call_compared(self) -> bool:
            """``ROW(...)`` followed by ``<``: a row value compared, never a type."""
            if not (
                self._curr
                and self._curr.text.upper() == "ROW"
                and self._next
                and self._next.token_type == TokenType.L_PAREN
            ):
                return False
            depth = 0
            for token in self._tokens[self._index + 1 :]:
                if depth == 0 and token.token_type != TokenType.L_PAREN:
                    return bool(token.token_type == TokenType.LT)
                if token.token_type == TokenType.L_PAREN:
                    depth += 1
                elif token.token_type == TokenType.R_PAREN:
                    depth -= 1
            return False

    class Generator(_DuckDBGenerator):  # type: ignore[misc]
        MULTI_ARG_DISTINCT = True  # string_agg(DISTINCT x, ', ') stays as written

        def datatype_sql(self, expression: exp.DataType) -> str:
            if expression.this == exp.DataType.Type.FLOAT and expression.expressions:
                return f"FLOAT({self.expressions(expression, flat=True)})"  # not REAL(p)
            return str(super().datatype_sql(expression))

        def withingroup_sql(self, expression: exp.WithinGroup) -> str:
            return Generator.withingroup_sql(self, expression)

        def ignorenulls_sql(self, expression: exp.IgnoreNulls) -> str:
            return f"{self.sql(expression, 'this')} IGNORE NULLS"

        def respectnulls_sql(self, expression: exp.RespectNulls) -> str:
            return f"{self.sql(expression, 'this')} RESPECT NULLS"

        def tablesample_sql(self, expression: exp.TableSample, *args: Any, **kwargs: Any) -> str:
            keyword = None if isinstance(expression.parent, exp.Select) else "TABLESAMPLE"
            return Generator.tablesample_sql(self, expression, tablesample_keyword=keyword)

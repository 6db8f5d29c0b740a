"""Which tables a query reads, with the scoping rules DuckDB applies to CTE names.

A CTE's name hides a table of the same name only where DuckDB says so: in the query the
``WITH`` belongs to (its main body and the CTEs defined after it), and inside its own body
only in the recursive term of a ``WITH RECURSIVE`` union. Everywhere else (the CTE's own
body, an earlier CTE, the anchor of a recursive union, outside the query) the name is the
table. Both the sqlglot check and DuckDB's parse tree below follow these rules, and
compare names as DuckDB does: ASCII letters without regard to case, every other character
as it is (Python's ``lower`` would make the Kelvin sign 'K' a 'k', and a CTE named with it
hide the table whose name has a 'k').
"""

from __future__ import annotations

import functools
import itertools
import json
from typing import Any

import duckdb
from sqlglot import exp

from safemirror.mirror.schema import OFFLINE

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold_name(name: str) -> str:
    """An identifier as DuckDB matches a CTE or table name: ASCII letters lower-cased,
    every other character kept."""
    return name.translate(_ASCII_LOWER)


def _within(node: exp.Expression, ancestor: exp.Expression) -> bool:
    """Whether ``node`` is ``ancestor`` or below it (the same node, not an equal one)."""
    return node is ancestor or any(p is ancestor for p in _parents(node))


def _parents(node: exp.Expression) -> list[Any]:
    found: list[Any] = []
    parent = node.parent
    while parent is not None:
        found.append(parent)
        parent = parent.parent
    return found


def _names(with_: exp.With) -> list[str]:
    return [fold_name(str(c.alias_or_name)) for c in with_.expressions]


def visible_ctes(table: exp.Table) -> set[str]:
    """The CTE names (``fold_name``) that ``table`` may refer to, by DuckDB's scoping."""
    names: set[str] = set()
    path = [table, *_parents(table)]
    for child, node in itertools.pairwise(path):
        if isinstance(node, exp.With) and isinstance(child, exp.CTE):
            position = next(i for i, c in enumerate(node.expressions) if c is child)
            names.update(_names(node)[:position])
            body = child.this
            if (
                node.args.get("recursive")
                and isinstance(body, exp.Union)
                and _within(table, body.expression)
            ):
                names.add(fold_name(str(child.alias_or_name)))
        elif not isinstance(node, exp.With):
            with_ = node.args.get("with_")
            if isinstance(with_, exp.With) and child is not with_:
                names.update(_names(with_))
    return names


@functools.cache
def _parser_database() -> duckdb.DuckDBPyConnection:
    config: dict[str, Any] = {"enable_external_access": False, **OFFLINE}
    return duckdb.connect(":memory:", config=config | {"lock_configuration": True})


def parser() -> duckdb.DuckDBPyConnection:
    """A cursor on an in-memory database with every way out closed, only to parse SQL."""
    return _parser_database().cursor()


class ParseError(Exception):
    """DuckDB could not parse the text; the message is its own."""


def parsed_tables(text: str) -> set[tuple[str, str, str]]:
    """(catalog, schema, table) of every table DuckDB's parser sees ``text`` read, CTE
    references left out by DuckDB's scoping. Nothing is bound or run."""
    cursor = parser()
    try:
        serialized = cursor.execute("SELECT json_serialize_sql(?::VARCHAR)", [text]).fetchone()
    finally:
        cursor.close()
    tree = json.loads(serialized[0]) if serialized else {"error": True}
    if tree.get("error") is not False:
        raise ParseError(str(tree.get("error_message") or "the query could not be parsed"))
    found: set[tuple[str, str, str]] = set()
    _walk(tree.get("statements"), frozenset(), found)
    return found


def _walk(node: Any, scope: frozenset[str], found: set[tuple[str, str, str]]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, scope, found)
        return
    if not isinstance(node, dict):
        return
    ctes = node.get("cte_map")
    if isinstance(ctes, dict):
        names: list[str] = []
        for entry in ctes.get("map") or []:
            name = fold_name(str(entry.get("key")))
            _walk_cte(entry.get("value"), name, scope | set(names), found)
            names.append(name)
        scope = scope | set(names)
        node = {k: v for k, v in node.items() if k != "cte_map"}
    if node.get("type") == "BASE_TABLE" and "table_name" in node:
        catalog, schema = str(node.get("catalog_name") or ""), str(node.get("schema_name") or "")
        name = str(node["table_name"])
        if catalog or schema or fold_name(name) not in scope:
            found.add((catalog, schema, name))
    for value in node.values():
        _walk(value, scope, found)


def _walk_cte(
    value: Any, name: str, scope: frozenset[str], found: set[tuple[str, str, str]]
) -> None:
    """A CTE's body: its own name is a CTE only in a recursive union's recursive term."""
    query = value.get("query_node") if isinstance(value, dict) else None
    if isinstance(query, dict) and query.get("type") == "RECURSIVE_CTE_NODE":
        rest = {k: v for k, v in query.items() if k != "right"}
        _walk(rest, scope, found)
        _walk(query.get("right"), scope | {name}, found)
        _walk({k: v for k, v in value.items() if k != "query_node"}, scope, found)
        return
    _walk(value, scope, found)

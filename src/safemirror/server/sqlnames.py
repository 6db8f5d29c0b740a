"""Result columns keep the names DuckDB gives the analyst's own text.

What runs is sqlglot's regeneration of the query, and DuckDB names an unaliased column
after the text of its expression: ``list(x)`` would come back as ``array_agg(x)``,
``date_trunc('month', ts)`` as ``date_trunc('MONTH', ts)``. DuckDB's parser (nothing is
bound or run) gives the name the original text has; the regenerated query aliases each
such column with it. Column references, stars and anything that may expand to several
columns keep their own names; when the two parses do not line up, nothing is renamed.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
from sqlglot import exp

from safemirror.server.sqltables import parser

_EMPTY_FROM = {
    "type": "EMPTY",
    "alias": "",
    "sample": None,
    "query_location": 18446744073709551615,
    "query_location_length": 0,
}
_EXPANDING = {"unnest", "unlist", "columns"}  # may stand for several columns


def _first_select(node: Any) -> dict[str, Any] | None:
    while isinstance(node, dict) and node.get("type") == "SET_OPERATION_NODE":
        node = node.get("left")
    return node if isinstance(node, dict) and node.get("type") == "SELECT_NODE" else None


def _nameable(item: Any) -> bool:
    """An unaliased expression that is one column and not a plain column reference."""
    if not isinstance(item, dict) or item.get("alias"):
        return False
    if item.get("class") in ("COLUMN_REF", "POSITIONAL_REFERENCE"):  # #1 keeps its column's name
        return False
    text = json.dumps(item)
    if '"class": "STAR"' in text:
        return False
    return not any(f'"function_name": "{name}"' in text.lower() for name in _EXPANDING)


def duckdb_names(sql: str) -> list[str | None] | None:
    """The name DuckDB gives each column of ``sql``'s first SELECT (None: its own name)."""
    cursor = parser()
    try:
        tree = json.loads(
            cursor.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchone()[0]  # type: ignore[index]
        )
        if tree.get("error") is not False or len(tree.get("statements") or []) != 1:
            return None
        node = _first_select(tree["statements"][0].get("node"))
        if node is None:
            return None
        items = node.get("select_list") or []
        docs = [json.dumps(_alone(node, item)) for item in items if _nameable(item)]
        texts = iter(
            cursor.execute(
                "SELECT [json_deserialize_sql(d) FOR d IN ?::VARCHAR[]]", [docs]
            ).fetchone()[0]  # type: ignore[index]
            if docs
            else []
        )
    except (duckdb.Error, ValueError, KeyError, TypeError):
        return None
    finally:
        cursor.close()
    names: list[str | None] = []
    for item in items:
        text = next(texts) if _nameable(item) else None
        names.append(text[len("SELECT ") :] if text and text.startswith("SELECT ") else None)
    return names


def _alone(node: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """``SELECT <item>`` and nothing else, as DuckDB's parse tree."""
    single = {
        **node,
        "modifiers": [],
        "cte_map": {"map": []},
        "select_list": [item],
        "from_table": _EMPTY_FROM,
        "where_clause": None,
        "group_expressions": [],
        "group_sets": [],
        "having": None,
        "sample": None,
        "qualify": None,
        "aggregate_handling": "STANDARD_HANDLING",
    }
    return {"error": False, "statements": [{"node": single, "named_param_map": []}]}


def keep_names(tree: exp.Expression, sql: str) -> None:
    """Alias the checked tree's unaliased columns with the names ``sql`` has in DuckDB."""
    select: exp.Expression | None = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    projections = select.expressions
    names = duckdb_names(sql)
    if names is None or len(names) != len(projections):
        return
    for i, (projection, name) in enumerate(zip(projections, names, strict=True)):
        if name is None or isinstance(projection, exp.Alias | exp.Column | exp.Star):
            continue
        projections[i] = exp.alias_(projection, name, quoted=True)
    select.set("expressions", projections)

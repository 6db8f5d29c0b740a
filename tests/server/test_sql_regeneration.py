"""What runs is sqlglot's regeneration of the checked query: it must mean what was written.

Rows show it for most queries (``sql_corpus_syntax.sql``); a sample without a seed draws
other rows on every run, so for samples DuckDB's own parse tree shows it: the sample
clause of the regenerated query (method, size, unit, seed, and where it applies) is the
one DuckDB reads in the text as written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from safemirror.server.sandbox import Catalog, check_sql, load_catalog
from tests.server.conftest import make_project
from tests.server.test_sql_corpus import CASES

SAMPLES = [
    "SELECT count(*) FROM connection_events USING SAMPLE 5%",
    "SELECT count(*) FROM connection_events USING SAMPLE 5 %",
    "SELECT count(*) FROM connection_events USING SAMPLE 5 PERCENT",
    "SELECT count(*) FROM connection_events USING SAMPLE 2.5%",
    "SELECT count(*) FROM connection_events USING SAMPLE 50",
    "SELECT count(*) FROM connection_events USING SAMPLE 50 ROWS",
    "SELECT count(*) FROM connection_events USING SAMPLE 10% (bernoulli)",
    "SELECT count(*) FROM connection_events USING SAMPLE 10% (bernoulli, 42)",
    "SELECT count(*) FROM connection_events USING SAMPLE 10 ROWS (system, 5)",
    "SELECT count(*) FROM connection_events USING SAMPLE 10 ROWS (reservoir, 5)",
    "SELECT count(*) FROM connection_events USING SAMPLE SYSTEM (10 ROWS)",
    "SELECT count(*) FROM connection_events USING SAMPLE reservoir(5%) REPEATABLE (7)",
    "SELECT count(*) FROM connection_events TABLESAMPLE 5%",
    "SELECT count(*) FROM connection_events TABLESAMPLE 5",
    "SELECT count(*) FROM connection_events TABLESAMPLE (30 ROWS)",
    "SELECT count(*) FROM connection_events TABLESAMPLE SYSTEM (100)",
    "SELECT count(*) FROM connection_events TABLESAMPLE SYSTEM (10 ROWS) REPEATABLE (4)",
    "SELECT count(*) FROM connection_events TABLESAMPLE BERNOULLI (10 PERCENT) REPEATABLE (3)",
    "SELECT count(*) FROM connection_events AS e TABLESAMPLE 10%",
    "SELECT count(*) FROM users u TABLESAMPLE 5 ROWS JOIN devices d ON d.user_id = u.id",
    "SELECT count(*) FROM users u JOIN devices d TABLESAMPLE 5 ROWS ON d.user_id = u.id",
    "SELECT count(*) FROM (SELECT * FROM connection_events WHERE outcome = 'ok' "
    "USING SAMPLE 10 ROWS)",
    "SELECT outcome, count(*) FROM connection_events GROUP BY outcome USING SAMPLE 2 ROWS",
    "WITH c AS (SELECT * FROM connection_events) SELECT count(*) FROM c TABLESAMPLE 10 ROWS",
    "SELECT count(*) FROM range(100) TABLESAMPLE 10 ROWS",
]
CORPUS_SAMPLES = [sql for _, expect, sql in CASES if "SAMPLE" in sql.upper() and not expect]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    project = make_project(tmp_path_factory.mktemp("regeneration"))
    con = duckdb.connect(str(project.config.mirror), read_only=True)
    try:
        return load_catalog(con, project.config.policy)
    finally:
        con.close()


def _walk(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        if node.get("sample"):
            yield path, json.dumps(node["sample"], sort_keys=True)
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")


def samples(sql: str) -> list[tuple[str, str]]:
    """Each sample clause DuckDB reads in ``sql``, with where in the query it applies."""
    con = duckdb.connect()
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])  # type: ignore[index]
    finally:
        con.close()
    assert tree["error"] is False, tree
    return list(_walk(tree["statements"], ""))


@pytest.mark.parametrize("sql", SAMPLES + CORPUS_SAMPLES)
def test_a_sample_means_what_was_written(catalog: Catalog, sql: str) -> None:
    written = samples(sql)
    assert written
    assert samples(check_sql(sql, catalog)) == written


def test_the_known_percent_sample_is_duckdbs_default() -> None:
    """``USING SAMPLE 5%`` runs as ``USING SAMPLE SYSTEM (5 PERCENT)``: DuckDB's own
    default for a percentage, the same sample (the row counts of two runs differ, for
    either text, because a SYSTEM sample keeps or drops whole vectors of 2048 rows)."""
    regenerated = "SELECT * FROM t USING SAMPLE SYSTEM (5 PERCENT)"
    assert samples("SELECT * FROM t USING SAMPLE 5%") == samples(regenerated)

"""A CTE name hides a table only where DuckDB says so, in both layers of the SQL check:
queries DuckDB's table lister cannot bind are still held to the tables they read."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from safemirror.server.sandbox import Catalog, QueryRefused, _tables_read, check_sql
from safemirror.server.sqltables import visible_ctes

CATALOG = Catalog(frozenset({"users", "devices"}), {}, frozenset({"body_metrics"}))
UNBINDABLE = ", UNNEST([1]) AS u(v)"  # DuckDB's table lister fails to bind this

READS_THE_TABLE = [
    "WITH a AS (SELECT * FROM body_metrics), body_metrics AS (SELECT 1 AS z) SELECT * FROM a",
    "WITH body_metrics AS (SELECT * FROM body_metrics) SELECT * FROM body_metrics",
    "WITH RECURSIVE body_metrics AS (SELECT user_id FROM body_metrics UNION ALL "
    "SELECT user_id FROM body_metrics WHERE false) SELECT * FROM body_metrics",
    "SELECT * FROM (WITH body_metrics AS (SELECT 1) SELECT 1) t, body_metrics",
]


@pytest.mark.parametrize("sql", READS_THE_TABLE)
def test_a_cte_does_not_hide_the_table_where_duckdb_reads_it(sql: str) -> None:
    for text in (sql, sql + UNBINDABLE):
        with pytest.raises(QueryRefused, match="body_metrics is aggregate-only"):
            check_sql(text, CATALOG)
        assert "body_metrics" in _tables_read(text + "", sqlglot.parse_one(text, read="duckdb"))


@pytest.mark.parametrize(
    ("sql", "phrase"),
    [
        ("SELECT * FROM main.users" + UNBINDABLE, "qualified table name main.users"),
        ("SELECT * FROM '/etc/passwd'" + UNBINDABLE, "/etc/passwd"),
        ("SELECT * FROM _sm_runs" + UNBINDABLE, "_sm_runs"),
    ],
)
def test_the_fallback_lister_refuses_what_the_first_one_would(sql: str, phrase: str) -> None:
    text = sqlglot.parse_one(sql, read="duckdb").sql(dialect="duckdb")
    try:
        tables = _tables_read(text, sqlglot.parse_one(text, read="duckdb"))
    except QueryRefused as exc:
        assert phrase in exc.message
        return
    assert not tables <= CATALOG.allowed and any(phrase in t for t in tables)


def test_cte_references_are_not_tables() -> None:
    sql = (
        "WITH RECURSIVE t AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM t WHERE n < 3), "
        "u AS (SELECT * FROM t) SELECT * FROM u, (SELECT * FROM t) x" + UNBINDABLE
    )
    assert check_sql(sql, CATALOG)
    tree = sqlglot.parse_one(sql, read="duckdb")
    scopes = [sorted(visible_ctes(t)) for t in tree.find_all(exp.Table)]
    assert all("t" in s or "u" in s for s in scopes), scopes


def test_a_cte_hides_a_table_only_by_duckdb_s_ascii_case_rule() -> None:
    """DuckDB matches names ignoring the case of ASCII letters only: a CTE named with the
    Kelvin sign (which Python lower-cases to 'k') does not hide the table ``bank``."""
    catalog = Catalog(frozenset({"users"}), {}, frozenset({"bank"}))
    sql = 'WITH "ban\u212a" AS (SELECT 1 AS z) SELECT * FROM bank'
    con = duckdb.connect()
    con.execute("CREATE TABLE bank (secret INTEGER); INSERT INTO bank VALUES (42)")
    assert con.execute(sql).fetchall() == [(42,)]  # DuckDB reads the table
    for text in (sql, sql + UNBINDABLE):
        with pytest.raises(QueryRefused, match="bank is aggregate-only"):
            check_sql(text, catalog)
        assert "bank" in _tables_read(text, sqlglot.parse_one(text, read="duckdb"))


def test_a_recursive_term_is_told_apart_from_an_equal_subquery_of_the_anchor() -> None:
    """The anchor's subquery ``SELECT x FROM body_metrics`` reads the table even though the
    recursive term is the same text."""
    sql = (
        "WITH RECURSIVE body_metrics AS (SELECT x FROM (SELECT x FROM body_metrics) s "
        "UNION SELECT x FROM body_metrics) SELECT x FROM body_metrics"
    )
    tree = sqlglot.parse_one(sql, read="duckdb")
    anchor_read = next(t for t in tree.find_all(exp.Table) if t.find_ancestor(exp.Subquery))
    assert "body_metrics" not in visible_ctes(anchor_read)

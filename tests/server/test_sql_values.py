"""A result's values come out alike whether or not it holds an interval (which is read
through Arrow): DuckDB's ``infinity`` and years past 9999 too, where Python's dates end."""

from __future__ import annotations

import duckdb
import pytest

from safemirror.server.sandbox import run_sql

FAR = (
    "TIMESTAMP 'infinity' AS a, TIMESTAMP '-infinity' AS b, DATE 'infinity' AS c, "
    "DATE '-infinity' AS d, TIMESTAMP '294000-01-01 10:11:12.5' AS e, "
    "[TIMESTAMP '-infinity'] AS f, {'x': DATE 'infinity'} AS g, "
    "TIMESTAMP '2024-05-06 07:08:09' AS h"
)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def test_far_dates_beside_an_interval_come_out_as_without_one(
    con: duckdb.DuckDBPyConnection,
) -> None:
    alone = run_sql(con.cursor(), f"SELECT {FAR}", max_rows=5, timeout_s=10).rows
    beside = run_sql(
        con.cursor(), f"SELECT {FAR}, INTERVAL 1 MONTH AS i", max_rows=5, timeout_s=10
    ).rows
    assert beside == [[*alone[0], "P1M"]]
    assert alone[0][:4] == [
        "9999-12-31T23:59:59.999999",
        "0001-01-01T00:00:00",
        "9999-12-31",
        "0001-01-01",
    ]
    assert alone[0][4] == "294000-01-01 10:11:12.5"


def test_an_interval_result_with_an_infinite_stamp_is_answered(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Time since a start, beside a stamp that is infinity (kept from PostgreSQL)."""
    sql = (
        "SELECT ts, CASE WHEN isfinite(ts) THEN ts - TIMESTAMP '2024-01-01' END AS since "
        "FROM (VALUES (TIMESTAMP '2024-01-02 06:00:00'), (TIMESTAMP 'infinity')) AS t(ts) "
        "ORDER BY ts"
    )
    rows = run_sql(con.cursor(), sql, max_rows=5, timeout_s=10).rows
    assert rows == [["2024-01-02T06:00:00", "P1DT6H"], ["9999-12-31T23:59:59.999999", None]]

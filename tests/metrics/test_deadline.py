"""Query deadlines: a query past its time is interrupted; finished ones are left alone."""

from __future__ import annotations

import time

import duckdb
import pytest

from safemirror.metrics.mirror import QueryTimeout, deadline

SLOW = "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3"


def test_a_slow_query_is_stopped() -> None:
    con = duckdb.connect()
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"longer than 0\.2 s"), deadline(con, 0.2):
        con.execute(SLOW).fetchall()
    assert time.monotonic() - t0 < 5
    assert con.execute("SELECT 42").fetchall() == [(42,)]  # the connection still works
    con.close()


def test_finished_queries_are_not_interrupted_later() -> None:
    con = duckdb.connect()
    for _ in range(50):  # each well within its time, however busy the machine
        with deadline(con, 0.5):
            assert con.execute("SELECT 1").fetchall() == [(1,)]
    time.sleep(0.6)  # every deadline has passed: none may fire on the next query
    assert con.execute("SELECT count(*) FROM range(3000000)").fetchall() == [(3000000,)]
    con.close()


def test_an_earlier_deadline_is_not_held_up_by_a_later_one() -> None:
    idle, busy = duckdb.connect(), duckdb.connect()
    with deadline(idle, 60):  # scheduled first, due last
        t0 = time.monotonic()
        with pytest.raises(QueryTimeout), deadline(busy, 0.2):
            busy.execute(SLOW).fetchall()
        assert time.monotonic() - t0 < 5
    idle.close()
    busy.close()

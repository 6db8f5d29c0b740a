"""PostgreSQL's ``infinity`` and ``-infinity`` reach the mirror as DuckDB's, kept or
truncated, and an infinite cursor value neither stops a run nor hides later changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from safemirror.config import ProjectConfig
from safemirror.sync.run import run_sync
from tests.sync.tiny import kept_table, rows

pytestmark = pytest.mark.postgres

MakeProject = Callable[..., ProjectConfig]

POLICY: dict[str, Any] = {
    "version": 1,
    "tables": {
        "tokens": kept_table(
            id="bigint", expires_at="timestamp", valid_until="date", updated_at="timestamp"
        )
    },
}
POLICY["tables"]["tokens"]["columns"]["valid_until"] = {
    "action": "generalize",
    "truncate": "month",
    "type": "date",
}


def test_infinite_instants_reach_the_mirror_as_infinities(
    pg_url: str, make_project: MakeProject
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE tokens (id bigint PRIMARY KEY, expires_at timestamptz, "
            "valid_until date, updated_at timestamptz NOT NULL)"
        )
        con.execute(
            "INSERT INTO tokens VALUES (1, 'infinity', 'infinity', now()), "
            "(2, '-infinity', '-infinity', now()), "
            "(3, '2030-05-06 07:08:09+00', '2030-05-06', now())"
        )
    project = make_project(pg_url, POLICY)
    run_sync(project)
    shown = "SELECT id, expires_at::VARCHAR, valid_until::VARCHAR FROM tokens ORDER BY id"
    assert rows(project, shown) == [
        (1, "infinity", "infinity"),
        (2, "-infinity", "-infinity"),
        (3, "2030-05-06 07:08:09", "2030-05-01"),
    ]
    assert rows(project, "SELECT count(*) FROM tokens WHERE expires_at > now()") == [(2,)]
    with psycopg.connect(pg_url, autocommit=True) as con:  # a cursor stamped 'infinity'
        con.execute("UPDATE tokens SET updated_at = 'infinity' WHERE id = 2")
    run_sync(project)
    assert run_sync(project).tables["tokens"].rows_read == 1  # read again, as future rows are
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            "UPDATE tokens SET expires_at = '2031-01-01 00:00:00+00', updated_at = now() "
            "WHERE id = 3"
        )
    assert run_sync(project).tables["tokens"].rows_read == 2
    assert rows(project, "SELECT expires_at::VARCHAR FROM tokens WHERE id = 3") == [
        ("2031-01-01 00:00:00",)
    ]

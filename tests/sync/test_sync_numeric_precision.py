"""A numeric whose precision or scale changes at the source stops an incremental run: the
mirror's DECIMAL column keeps the scale it was made with, and would round the new values
to it (0.0049 read as 0.00) or refuse them with an error that quotes one."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from safemirror.config import ProjectConfig
from safemirror.errors import PolicyError
from safemirror.sync.run import run_sync
from tests.sync.tiny import rows

pytestmark = pytest.mark.postgres

MakeProject = Callable[..., ProjectConfig]

POLICY: dict[str, Any] = {
    "version": 1,
    "tables": {
        "pay": {
            "primary_key": "id",
            "cursor": "updated_at",
            "columns": {
                "id": "keep",
                "amount": {"action": "keep", "type": "numeric"},
                "updated_at": "keep",
            },
        }
    },
}


def test_a_numeric_whose_scale_changed_stops_the_run_until_a_full_one(
    pg_url: str, make_project: MakeProject
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE pay (id bigint PRIMARY KEY, amount numeric(10, 2), "
            "updated_at timestamptz DEFAULT now())"
        )
        con.execute("INSERT INTO pay (id, amount) VALUES (1, 12.34), (2, 5.5)")
    project = make_project(pg_url, POLICY)
    run_sync(project)
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("ALTER TABLE pay ALTER amount TYPE numeric(14, 4)")
        con.execute("UPDATE pay SET amount = 0.0049, updated_at = now() WHERE id = 2")
    with pytest.raises(PolicyError) as caught:
        run_sync(project)
    assert "pay.amount: precision changed" in caught.value.message
    assert "numeric(10,2)" in caught.value.message and "numeric(14,4)" in caught.value.message
    assert "0.0049" not in str(caught.value)
    assert rows(project, "SELECT amount FROM pay ORDER BY id") == [
        (Decimal("12.34"),),
        (Decimal("5.50"),),
    ]
    run_sync(project, full=True)  # rebuilds the table with the new type
    assert rows(project, "SELECT amount FROM pay ORDER BY id") == [
        (Decimal("12.3400"),),
        (Decimal("0.0049"),),
    ]
    run_sync(project)  # and the runs after it go on

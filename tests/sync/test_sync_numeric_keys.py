"""Keys kept as NUMERIC(19,0) pseudonymize like BIGINT ones: joins across them hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from safemirror.config import ProjectConfig
from safemirror.sync.run import run_sync
from tests.sync.tiny import rows

pytestmark = pytest.mark.postgres

MakeProject = Callable[..., ProjectConfig]


def test_a_numeric_key_and_a_bigint_reference_share_pseudonyms(
    pg_url: str, make_project: MakeProject
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("CREATE TABLE accounts (id numeric(19, 0) PRIMARY KEY, plan text)")
        con.execute("CREATE TABLE logins (id bigint PRIMARY KEY, account_id bigint)")
        con.execute("INSERT INTO accounts VALUES (9007199254740993, 'pro'), (7, 'free')")
        con.execute("INSERT INTO logins VALUES (1, 9007199254740993), (2, 7), (3, 7)")
    pseudonym = {"action": "pseudonymize", "domain": "account"}
    policy: dict[str, Any] = {
        "version": 1,
        "tables": {
            "accounts": {"primary_key": "id", "columns": {"id": pseudonym, "plan": "keep"}},
            "logins": {
                "primary_key": "id",
                "columns": {"id": "keep", "account_id": pseudonym},
            },
        },
    }
    project = make_project(pg_url, policy)
    run_sync(project)
    joined = rows(
        project,
        "SELECT a.plan, count(*) FROM logins l JOIN accounts a ON a.id = l.account_id "
        "GROUP BY 1 ORDER BY 1",
    )
    assert joined == [("free", 2), ("pro", 1)]
    assert rows(project, "SELECT count(*) FROM accounts WHERE id IN (7, 9007199254740993)") == [
        (0,)
    ]  # pseudonyms, not the ids

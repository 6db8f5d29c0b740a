"""Keys that are not BIGINT pseudonymize too: NUMERIC(19,0) like BIGINT (joins across them
hold), and binary keys (bytea) as their bytes."""

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


def test_a_bytea_key_pseudonymizes_and_joins(pg_url: str, make_project: MakeProject) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("CREATE TABLE devices (serial bytea PRIMARY KEY, model text)")
        con.execute("CREATE TABLE readings (id bigint PRIMARY KEY, serial bytea)")
        con.execute("INSERT INTO devices VALUES ('\\x00ff01', 'scale'), ('\\xdeadbeef', 'band')")
        con.execute(
            "INSERT INTO readings VALUES (1, '\\x00ff01'), (2, '\\xdeadbeef'), (3, '\\xdeadbeef')"
        )
    pseudonym = {"action": "pseudonymize", "domain": "device", "type": "blob"}
    policy: dict[str, Any] = {
        "version": 1,
        "tables": {
            "devices": {"primary_key": "serial", "columns": {"serial": pseudonym, "model": "keep"}},
            "readings": {"primary_key": "id", "columns": {"id": "keep", "serial": pseudonym}},
        },
    }
    project = make_project(pg_url, policy)
    run_sync(project)
    joined = rows(
        project,
        "SELECT d.model, count(*) FROM readings r JOIN devices d ON d.serial = r.serial "
        "GROUP BY 1 ORDER BY 1",
    )
    assert joined == [("band", 2), ("scale", 1)]
    assert rows(project, "SELECT typeof(serial) FROM devices LIMIT 1") == [("BIGINT",)]
    with psycopg.connect(pg_url, autocommit=True) as con:  # an incremental run: same pseudonyms
        con.execute("INSERT INTO readings VALUES (4, '\\x00ff01')")
    before = rows(project, "SELECT serial FROM devices ORDER BY model")
    run_sync(project)
    assert rows(project, "SELECT serial FROM devices ORDER BY model") == before
    assert rows(
        project,
        "SELECT count(*) FROM readings r JOIN devices d USING (serial) WHERE d.model = 'scale'",
    ) == [(2,)]

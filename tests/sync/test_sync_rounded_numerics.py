"""A numeric without a precision of at most 38 digits reaches the mirror as a double:
never pseudonymized (two ids rounded to one would share a pseudonym), and a key of that
type is checked for keys that round to one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
import yaml

from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode, PolicyError
from safemirror.sync.run import run_sync
from tests.conftest import sqlite_db
from tests.policy.drafts import draft_of

MakeProject = Callable[..., ProjectConfig]

TWINS = (2**53, 2**53 + 1)  # one double
FORTY_DIGITS = (10**39 + 1, 10**39 + 2)


def _accounts(pg_url: str, key: str = "numeric") -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f"CREATE TABLE accounts (id {key} PRIMARY KEY, big numeric, label text)")
        for account, big in zip(TWINS, FORTY_DIGITS, strict=True):
            con.execute("INSERT INTO accounts VALUES (%s, %s, 'x')", (account, big))


def _policy(id_spec: dict[str, Any]) -> dict[str, Any]:
    columns = {"id": id_spec, "big": {"action": "keep"}, "label": {"action": "drop"}}
    return {"version": 1, "tables": {"accounts": {"primary_key": "id", "columns": columns}}}


def _config(project: ProjectConfig) -> str:
    return str(project.base_dir / "safemirror.yaml")


@pytest.mark.postgres
@pytest.mark.parametrize("key", ["numeric", "numeric(50, 0)"])
def test_pseudonymizing_a_rounded_numeric_is_refused(
    pg_url: str, make_project: MakeProject, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    _accounts(pg_url, key)
    project = make_project(pg_url, _policy({"action": "pseudonymize", "domain": "account"}))
    capsys.readouterr()
    assert run(["policy", "check", "--config", _config(project)]) == ExitCode.POLICY
    said = " ".join(capsys.readouterr().err.split())
    assert "accounts.id: action does not fit the type" in said
    assert "a numeric without a precision of at most 38 digits is read as a double" in said
    assert run(["sync", "--quiet", "--config", _config(project)]) == ExitCode.POLICY
    assert not project.mirror.exists()


@pytest.mark.postgres
def test_a_rounded_numeric_key_whose_keys_round_to_one_stops_the_run(
    pg_url: str, make_project: MakeProject
) -> None:
    """Kept, 2**53 and 2**53 + 1 would be two mirror rows under one key."""
    _accounts(pg_url)
    project = make_project(pg_url, _policy({"action": "keep"}))
    with pytest.raises(PolicyError, match="not unique") as err:
        run_sync(project)
    assert "numeric(p) with p <= 38" in str(err.value)
    assert not project.mirror.exists()


def test_a_rounded_sqlite_numeric_key_whose_keys_round_to_one_stops_the_run(
    tmp_path: Path, make_project: MakeProject
) -> None:
    url = sqlite_db(
        tmp_path / "prod.db",
        "CREATE TABLE accounts (id NUMERIC PRIMARY KEY, big DECIMAL, label TEXT)",
        *(f"INSERT INTO accounts VALUES ({a}, {b}, 'x')" for a, b in zip(TWINS, TWINS)),
    )
    project = make_project(url, _policy({"action": "keep"}))
    with pytest.raises(PolicyError, match="not unique"):
        run_sync(project)


@pytest.mark.postgres
def test_suggest_and_check_say_a_numeric_reaches_the_mirror_rounded(
    pg_url: str, make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, big numeric, exact numeric(38))")
        con.execute("CREATE TABLE ledgers (id numeric PRIMARY KEY, account_id numeric)")
    text, _, _ = draft_of(pg_url)
    lines = {line.split(":")[0].strip(): line for line in text.splitlines()}  # ledgers.id last
    for column in ("big", "account_id", "id"):
        assert "read as a double (rounded beyond 15-17 significant digits)" in lines[column]
    assert "a sync stops if two keys round to one" in lines["id"]
    assert "rounded" not in lines["exact"]
    project = make_project(pg_url, yaml.safe_load(text))
    capsys.readouterr()
    assert run(["policy", "check", "--config", _config(project)]) == ExitCode.OK
    notes = " ".join(capsys.readouterr().err.split())
    assert "accounts.big: a numeric without a precision of at most 38 digits" in notes
    assert "ledgers.id: a numeric" in notes and "accounts.exact" not in notes
    assert "ledgers.account_id" not in notes  # dropped: not in the mirror


@pytest.mark.postgres
def test_a_numeric_with_a_precision_is_pseudonymized_exactly(
    pg_url: str, make_project: MakeProject
) -> None:
    _accounts(pg_url, "numeric(20, 0)")
    project = make_project(pg_url, _policy({"action": "pseudonymize", "domain": "account"}))
    run_sync(project)
    con = duckdb.connect(str(project.mirror), read_only=True)
    try:
        (distinct,) = con.execute("SELECT count(DISTINCT id) FROM accounts").fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert distinct == 2

"""``policy suggest``'s keys: every key and foreign-key column pseudonymized in the domain
of what it references, so that the mirror's joins still match."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import yaml

from safemirror.cli import run
from safemirror.keys import create_key_file
from safemirror.policy.check import check_policy
from safemirror.policy.joins import broken_joins, foreign_keys_of
from safemirror.policy.load import policy_from_data
from safemirror.policy.model import Action, Policy
from safemirror.sources.registry import open_source
from tests.conftest import sqlite_db
from tests.policy.drafts import draft_of


def domains(draft: Policy) -> dict[tuple[str, str], str | None]:
    return {
        (table, column): spec.domain
        for table, table_policy in draft.tables.items()
        for column, spec in table_policy.columns.items()
        if spec.action is Action.PSEUDONYMIZE
    }


def test_keys_of_a_type_pseudonymize_does_not_take(tmp_path: Path) -> None:
    """A key column pseudonymize cannot hash is kept (it must reach the mirror); any
    other identifier of such a type is dropped; the draft passes the check."""
    _, draft, tables = draft_of(
        sqlite_db(
            tmp_path / "typed.db",
            "CREATE TABLE shifts (day DATE PRIMARY KEY, crew INTEGER)",
            "CREATE TABLE readings (id INTEGER, at TIMESTAMP, "
            "shift_day DATE REFERENCES shifts(day), external_id REAL, PRIMARY KEY (id, at))",
            "CREATE TABLE tags (serial BLOB PRIMARY KEY, label TEXT)",  # bytes: hashed
            "INSERT INTO tags VALUES (X'00ff', 'a'), (X'dead', 'b')",
            "INSERT INTO shifts VALUES ('2026-01-01', 3), ('2026-01-02', 4)",
            "INSERT INTO readings VALUES (1, '2026-01-01 08:00:00', '2026-01-01', 12345.0), "
            "(2, '2026-01-02 09:30:00', '2026-01-02', 67890.0)",
        )
    )
    actions = {
        (table, column): column_policy.action
        for table, table_policy in draft.tables.items()
        for column, column_policy in table_policy.columns.items()
    }
    assert actions[("shifts", "day")] is Action.KEEP
    assert actions[("readings", "at")] is Action.KEEP
    assert actions[("readings", "id")] is Action.PSEUDONYMIZE
    assert actions[("readings", "shift_day")] is Action.DROP
    assert actions[("readings", "external_id")] is Action.DROP
    assert actions[("tags", "serial")] is Action.PSEUDONYMIZE
    assert check_policy(draft, tables) == []


def test_a_bare_id_in_a_composite_key_numbers_its_own_table(tmp_path: Path) -> None:
    """``orders.id`` and ``events.id`` number different things: their pseudonyms must not
    match where the raw numbers do; a shared part (``tenant``) keeps one domain."""
    _, draft, _ = draft_of(
        sqlite_db(
            tmp_path / "composite.db",
            *(
                f"CREATE TABLE {table} (tenant INTEGER, id INTEGER, PRIMARY KEY (tenant, id))"
                for table in ("orders", "events")
            ),
        )
    )
    domains = {
        (table, column): draft.tables[table].columns[column].domain
        for table in ("orders", "events")
        for column in ("tenant", "id")
    }
    assert domains == {
        ("orders", "tenant"): "tenant",
        ("orders", "id"): "order",
        ("events", "tenant"): "tenant",
        ("events", "id"): "event",
    }


HOMES = [
    "CREATE TABLE accounts (account_id TEXT PRIMARY KEY, plan TEXT)",
    "CREATE TABLE homes (account_id TEXT REFERENCES accounts, home_no INTEGER, "
    "PRIMARY KEY (account_id, home_no))",
    "CREATE TABLE readings (id INTEGER PRIMARY KEY, account_id TEXT, home_no INTEGER, "
    "level REAL, FOREIGN KEY (account_id, home_no) REFERENCES homes)",
    "CREATE TABLE profiles (account_id TEXT PRIMARY KEY REFERENCES accounts, theme TEXT)",
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, "
    "owner TEXT REFERENCES profiles (account_id), body TEXT)",
]


def test_a_composite_foreign_key_shares_the_domains_of_its_columns(tmp_path: Path) -> None:
    """``readings (account_id, home_no) -> homes``: each column takes the domain of the
    column it references, so ``home_no`` joins (it is no number kept as it is); a table
    keyed by another's key (``profiles``) and what references it stay in that domain."""
    text, draft, tables = draft_of(sqlite_db(tmp_path / "homes.db", *HOMES))
    assert domains(draft) == {
        ("accounts", "account_id"): "account",
        ("homes", "account_id"): "account",
        ("homes", "home_no"): "home_no",
        ("readings", "id"): "reading",
        ("readings", "account_id"): "account",
        ("readings", "home_no"): "home_no",
        ("profiles", "account_id"): "account",
        ("notes", "id"): "note",
        ("notes", "owner"): "account",
    }
    assert (
        "home_no: {action: pseudonymize, domain: home_no, type: bigint}  # references "
        "homes.home_no" in text
    )
    assert check_policy(draft, tables) == []


def test_foreign_keys_in_postgresql_composite_and_chained(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for statement in HOMES:
            conn.execute(statement.replace("INTEGER PRIMARY KEY", "bigint PRIMARY KEY"))
    _, draft, _ = draft_of(pg_url)
    assert domains(draft)[("readings", "home_no")] == "home_no"
    assert domains(draft)[("profiles", "account_id")] == "account"
    assert domains(draft)[("notes", "owner")] == "account"


def test_foreign_keys_that_loop_end(tmp_path: Path) -> None:
    """Keys that reference each other in a loop still give one domain, and the draft ends."""
    _, draft, _ = draft_of(
        sqlite_db(
            tmp_path / "loop.db",
            "CREATE TABLE a (id INTEGER PRIMARY KEY REFERENCES b (id))",
            "CREATE TABLE b (id INTEGER PRIMARY KEY REFERENCES a (id))",
        )
    )
    assert domains(draft)[("a", "id")] == domains(draft)[("b", "id")]


def test_policy_check_notes_a_foreign_key_the_policy_no_longer_joins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A foreign-key column kept as it is, or pseudonymized in another domain than the
    column it references, no longer joins in the mirror: ``policy check`` says so in a
    note, and still passes (the mirror is safe; it is only less useful)."""
    url = sqlite_db(tmp_path / "homes.db", *HOMES)
    text, _, _ = draft_of(url)
    data = yaml.safe_load(text)
    readings = data["tables"]["readings"]["columns"]
    readings["home_no"] = {"action": "keep"}
    readings["account_id"]["domain"] = "owner"
    create_key_file(tmp_path / "key")
    config = tmp_path / "safemirror.yaml"
    config.write_text(
        yaml.safe_dump({"source": url, "key": f"file:{tmp_path / 'key'}", "policy": data})
    )
    with open_source(url) as source:  # type: ignore[attr-defined]
        fks = foreign_keys_of(source)
    assert broken_joins(policy_from_data(data, "p"), fks) == [
        "readings.account_id references homes.account_id, but the mirror holds it "
        "pseudonymized in domain owner and homes.account_id pseudonymized in domain account: "
        "the two no longer join; pseudonymize both in one domain",
        "readings.home_no references homes.home_no, but the mirror holds it as it is and "
        "homes.home_no pseudonymized in domain home_no: the two no longer join; "
        "pseudonymize both in one domain",
    ]
    capsys.readouterr()
    assert run(["policy", "check", "--config", str(config)]) == 0
    notes = " ".join(capsys.readouterr().err.split())
    assert "readings.home_no references homes.home_no" in notes
    assert "readings.account_id references homes.account_id" in notes
    data["tables"]["notes"] = "skip"  # a skipped table joins nothing: no note
    data["tables"]["readings"] = "skip"
    with open_source(url) as source:  # type: ignore[attr-defined]
        fks = foreign_keys_of(source)
    assert broken_joins(policy_from_data(data, "p"), fks) == []

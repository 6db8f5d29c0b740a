"""``policy suggest``'s domains: each table numbers its rows in a domain of its own, named
readably in any script; only a reference shares another table's."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from safemirror.policy.check import check_policy
from safemirror.policy.model import ColumnPolicy, Policy
from tests.conftest import sqlite_db
from tests.policy.drafts import draft_of

# Names that fold to one another: by case, accent, plural, punctuation or script.
TABLES = [
    "ÉTÉ",
    "été",
    "ÉTÉS",
    "Été!",
    "user",
    "users",
    "Users2",
    "user_2",
    "order-lines",
    "order_line",
    "日本",
    "Ελλάδα",
    "ΕΛΛΆΔΑ",
    "Straße",
    "***",
    "2fa",
]


def _own_domains(draft: Policy) -> dict[str, str]:
    return {
        table: str(policy.columns["id"].domain)
        for table, policy in draft.tables.items()
        if not policy.skip
    }


def _table(name: str, extra: str = "") -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    return f"CREATE TABLE {quoted} (id INTEGER PRIMARY KEY{extra})"


def test_every_table_numbers_its_rows_in_a_domain_of_its_own(tmp_path: Path) -> None:
    _, draft, tables = draft_of(sqlite_db(tmp_path / "names.db", *map(_table, TABLES)))
    own = _own_domains(draft)
    assert len(own) >= 12  # those the mirror can take (not the same but for case)
    for (a, domain_a), (b, domain_b) in combinations(own.items(), 2):
        assert domain_a != domain_b, (a, b)
    assert own["ÉTÉ"] == "été" and own["user"] == "user" and own["日本"] == "日本"
    assert own["order_line"].startswith("order_line") and own["ΕΛΛΆΔΑ"] == "ελλάδα"
    assert check_policy(draft, tables) == []


def test_a_reference_shares_its_table_s_domain_and_a_guess_never_another_s(
    tmp_path: Path,
) -> None:
    """``été_id`` names one table: it joins it. ``user_id`` could name ``user`` or
    ``users`` and references neither: a domain of its own, so it joins nothing by chance;
    a declared foreign key says which."""
    _, draft, _ = draft_of(
        sqlite_db(
            tmp_path / "refs.db",
            _table("ÉTÉ"),
            _table("user"),
            _table("users"),
            _table("visits", ", été_id INTEGER, user_id INTEGER"),
            _table("orders", ", user_id INTEGER REFERENCES users (id)"),
        )
    )
    own = _own_domains(draft)
    visits, orders = draft.tables["visits"].columns, draft.tables["orders"].columns
    assert visits["été_id"].domain == own["ÉTÉ"] == "été"
    assert orders["user_id"].domain == own["users"] != own["user"]
    assert visits["user_id"].domain not in own.values()


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("ÉTÉ", "été"),
        ("Ελλάδα", "ελλάδα"),
        ("e\u0301te\u0301", "été"),  # decomposed accents: composed
        ("İstanbul", "i̇stanbul"),  # its lower case has a combining dot: kept
        ("User Accounts", "user_accounts"),
        ("2fa", "d_2fa"),
        ("***", "value"),
    ],
)
def test_domain_names_keep_letters_of_any_script(text: str, domain: str) -> None:
    from safemirror.policy.domains import domain_name

    assert domain_name(text) == domain
    assert ColumnPolicy(action="pseudonymize", domain=domain).domain == domain  # type: ignore[arg-type]


@pytest.mark.parametrize("domain", ["Été", "e\u0301te\u0301", "user-x", "_x", "2x", ""])
def test_a_domain_has_one_spelling(domain: str) -> None:
    with pytest.raises(ValueError, match="not a domain name"):
        ColumnPolicy(action="pseudonymize", domain=domain)  # type: ignore[arg-type]

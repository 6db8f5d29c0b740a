"""``check_policy``: each kind of mismatch between a policy and the live schema."""

from __future__ import annotations

import pytest

from safemirror.errors import PolicyError
from safemirror.policy.check import Problem, check_policy, schema_problems
from safemirror.policy.load import policy_from_data
from safemirror.sources.base import ColumnInfo, TableInfo

LIVE = {
    "users": TableInfo(
        "users",
        (
            ColumnInfo("id", "bigint", False, "bigint"),
            ColumnInfo("email", "text", True, "text"),
            ColumnInfo("age", "integer", True, "integer"),
        ),
        ("id",),
    ),
    "logs": TableInfo("logs", (ColumnInfo("id", "bigint", False, "bigint"),), ("id",)),
}


def policy(tables: dict[str, object]) -> object:
    return policy_from_data({"tables": tables}, "test")


def problems(tables: dict[str, object]) -> list[tuple[str, str | None, str]]:
    return [(p.table, p.column, p.kind) for p in check_policy(policy(tables), LIVE)]


USERS = {
    "primary_key": "id",
    "columns": {
        "id": {"action": "pseudonymize", "domain": "user", "type": "bigint"},
        "email": "drop",
        "age": {"action": "keep", "type": "integer"},
    },
}


def test_a_matching_policy_has_no_problems() -> None:
    assert problems({"users": USERS, "logs": "skip"}) == []


def test_unclassified_table() -> None:
    assert problems({"users": USERS}) == [("logs", None, "unclassified table")]


def test_vanished_table() -> None:
    assert problems({"users": USERS, "logs": "skip", "gone": "skip"}) == [
        ("gone", None, "vanished table")
    ]


def test_unclassified_column() -> None:
    users = {**USERS, "columns": {k: v for k, v in USERS["columns"].items() if k != "email"}}
    assert problems({"users": users, "logs": "skip"}) == [("users", "email", "unclassified column")]


def test_vanished_column() -> None:
    users = {**USERS, "columns": {**USERS["columns"], "phone": "drop"}}
    assert problems({"users": users, "logs": "skip"}) == [("users", "phone", "vanished column")]


def test_type_changed_only_when_pinned() -> None:
    users = {
        **USERS,
        "columns": {
            **USERS["columns"],
            "age": {"action": "keep", "type": "text"},
            "email": {"action": "drop"},
        },
    }
    found = check_policy(policy({"users": users, "logs": "skip"}), LIVE)
    assert [(p.table, p.column, p.kind) for p in found] == [("users", "age", "type changed")]
    assert "the source now has integer;" in found[0].fix  # not "integer (integer)"
    assert "set 'type: integer'" in found[0].fix


def test_a_changed_type_names_the_database_s_own_spelling() -> None:
    live = {"users": TableInfo("users", (ColumnInfo("id", "bigint", False, "int8"),), ("id",))}
    users = {"primary_key": "id", "columns": {"id": {"action": "keep", "type": "integer"}}}
    (found,) = check_policy(policy({"users": users}), live)
    assert "the source now has bigint (int8);" in found.fix


def test_a_pinned_type_that_changed_is_one_problem_not_two() -> None:
    """The last sync's snapshot adds nothing when the policy pins the type itself."""
    users = {**USERS, "columns": {**USERS["columns"], "age": {"action": "keep", "type": "text"}}}
    users["columns"]["email"] = "drop"
    snapshot = {"users": {"age": "text", "email": "integer"}}
    found = schema_problems(policy({"users": users, "logs": "skip"}), LIVE, snapshot)
    assert [(p.table, p.column, p.kind) for p in found] == [
        ("users", "age", "type changed"),  # pinned: the policy's words
        ("users", "email", "type changed"),  # unpinned: the last sync's
    ]
    assert "the policy pins" in found[0].fix and "the last sync" in found[1].fix


def test_every_problem_names_its_fix() -> None:
    users = {**USERS, "columns": {"id": USERS["columns"]["id"], "ghost": "drop"}}
    found = check_policy(policy({"users": users, "gone": "skip"}), LIVE)
    kinds = {p.kind for p in found}
    assert kinds == {
        "unclassified table",
        "vanished table",
        "unclassified column",
        "vanished column",
    }
    for p in found:
        assert isinstance(p, Problem) and p.fix and p.table in p.describe()


TYPED = TableInfo(
    "readings",
    (
        ColumnInfo("id", "bigint", False, "bigint"),
        ColumnInfo("at", "timestamp", False, "timestamptz"),
        ColumnInfo("label", "text", True, "text"),
        ColumnInfo("value", "double", True, "float8"),
    ),
    ("id",),
)


@pytest.mark.parametrize(
    ("column", "spec", "fits"),
    [
        ("at", {"action": "pseudonymize", "domain": "at"}, False),
        ("value", {"action": "pseudonymize", "domain": "value"}, False),
        ("label", {"action": "pseudonymize", "domain": "label"}, True),
        ("label", {"action": "generalize", "truncate": "day"}, False),
        ("at", {"action": "generalize", "truncate": "day"}, True),
        ("label", {"action": "generalize", "bucket": 5}, False),
        ("value", {"action": "generalize", "bucket": 5}, True),
        ("value", {"action": "generalize", "min_count": 5}, False),
        ("label", {"action": "generalize", "min_count": 5}, True),
        ("value", "keep", True),
    ],
)
def test_an_action_that_cannot_apply_to_the_live_type_is_a_problem(
    column: str, spec: object, fits: bool
) -> None:
    """An unpinned column's action is checked against its live type: the sync stops on
    it before reading a row, instead of failing in the transform."""
    columns = {"id": "keep", "at": "keep", "label": "drop", "value": "keep", column: spec}
    tables = {"readings": {"primary_key": "id", "columns": columns}}
    found = check_policy(policy(tables), {"readings": TYPED})
    assert [(p.column, p.kind) for p in found] == (
        [] if fits else [(column, "action does not fit the type")]
    )
    if not fits:
        live = TYPED.column(column)
        assert live is not None and f"not {live.type}" in found[0].fix


def test_a_pinned_type_the_action_cannot_take_is_refused_on_load() -> None:
    columns = {"id": "keep", "at": {"action": "pseudonymize", "domain": "at", "type": "timestamp"}}
    taken = "bigint, integer, numeric, text or blob"
    with pytest.raises(PolicyError, match=rf"'at'.*pseudonymize takes {taken} columns, not"):
        policy({"readings": {"primary_key": "id", "columns": columns}})


@pytest.mark.parametrize("role", ["cursor", "delete_marker"])
def test_a_cursor_or_delete_marker_cannot_be_secret(role: str) -> None:
    """A secret is never read by the sync, and these must be: drop is the action that
    reads a column without copying it."""
    table = {
        "primary_key": "id",
        role: "changed_at",
        "columns": {"id": "keep", "changed_at": "secret"},
    }
    with pytest.raises(PolicyError, match=f"{role} column 'changed_at' is secret.*drop"):
        policy({"t": table})
    table["columns"]["changed_at"] = "drop"  # type: ignore[index]
    assert policy({"t": table})


@pytest.mark.parametrize("role", ["primary_key", "cursor"])
def test_a_key_or_cursor_that_names_a_column_twice_is_refused(role: str) -> None:
    table = {
        "primary_key": "id",
        role: ["changed_at", "changed_at"] if role == "cursor" else ["id", "id"],
        "columns": {"id": "keep", "changed_at": "drop"},
    }
    with pytest.raises(PolicyError, match=f"{role} names column '.*' more than once"):
        policy({"t": table})


def test_a_numeric_whose_precision_changed_is_a_problem_unless_the_run_is_full() -> None:
    """Pinned or not: the pin says numeric, the mirror's column holds numeric(10,2). A
    snapshot from before precisions were recorded ('numeric') compares nothing more."""
    live = {
        "pay": TableInfo(
            "pay",
            (
                ColumnInfo("id", "bigint", False, "bigint"),
                ColumnInfo("pinned", "numeric", True, "numeric(14,4)"),
                ColumnInfo("loose", "numeric", True, "numeric(12,2)"),
                ColumnInfo("old", "numeric", True, "numeric(12,2)"),
            ),
            ("id",),
        )
    }
    pay = {
        "primary_key": "id",
        "columns": {
            "id": "keep",
            "pinned": {"action": "keep", "type": "numeric"},
            "loose": "keep",
            "old": "keep",
        },
    }
    snapshot = {"pay": {"pinned": "numeric(10,2)", "loose": "numeric(12,2)", "old": "numeric"}}
    found = schema_problems(policy({"pay": pay}), live, snapshot)
    assert [(p.column, p.kind) for p in found] == [("pinned", "precision changed")]
    assert "sync --full" in found[0].fix
    assert schema_problems(policy({"pay": pay}), live, snapshot, full=True) == []

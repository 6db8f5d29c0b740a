"""Names that would collide in the mirror are refused when the policy is read: DuckDB
ignores case, and safemirror keeps the ``_sm_`` prefix for its own tables and columns."""

from __future__ import annotations

from typing import Any

import pytest

from safemirror.errors import ExitCode, PolicyError
from safemirror.policy.load import policy_from_data


def table(**columns: Any) -> dict[str, Any]:
    return {"primary_key": "id", "columns": {"id": "keep", **columns}}


def refusal(tables: dict[str, Any]) -> str:
    with pytest.raises(PolicyError) as caught:
        policy_from_data({"tables": tables}, "policy.yaml")
    assert caught.value.exit_code == ExitCode.POLICY
    return str(caught.value)


@pytest.mark.parametrize("name", ["_sm_deleted", "_sm_entered_at", "_SM_Note"])
def test_a_mirrored_column_may_not_take_the_system_prefix(name: str) -> None:
    message = refusal({"things": table(**{name: "keep"})})
    assert "table 'things'" in message
    assert f"column '{name}'" in message and "prefix '_sm_'" in message and "drop it" in message


def test_a_dropped_or_secret_column_may_keep_its_system_prefixed_name() -> None:
    policy = policy_from_data(
        {"tables": {"things": table(_sm_deleted="drop", _sm_entered_at="secret")}}, "policy.yaml"
    )
    assert policy.tables["things"].mirrored_columns == ["id"]


def test_columns_that_differ_only_in_case_are_refused() -> None:
    message = refusal({"things": table(Label="keep", label="keep")})
    assert "columns 'Label' and 'label' differ only in case" in message
    policy_from_data({"tables": {"things": table(Label="keep", label="drop")}}, "policy.yaml")


def test_tables_that_differ_only_in_case_or_take_the_prefix_are_refused() -> None:
    message = refusal({"Things": table(v="keep"), "things": table(v="keep")})
    assert "tables 'Things' and 'things' differ only in case" in message
    assert "'_sm_runs'" in refusal({"_sm_runs": table(v="keep")})
    assert "'things__SM_new'" in refusal({"things__SM_new": table(v="keep")})
    policy_from_data(
        {"tables": {"Things": table(v="keep"), "things": "skip", "_sm_runs": "skip"}},
        "policy.yaml",
    )

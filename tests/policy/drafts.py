"""Drafts of ``policy suggest`` for the tests."""

from __future__ import annotations

from typing import Any

import yaml

from safemirror.policy.load import policy_from_data
from safemirror.policy.model import Policy
from safemirror.policy.suggest import suggest_policy
from safemirror.sources.base import TableInfo
from safemirror.sources.registry import open_source


def draft_of(url: str, **options: Any) -> tuple[str, Policy, dict[str, TableInfo]]:
    """``policy suggest``'s draft of the source at ``url``: its text, the policy it makes
    and the live tables it was drafted from."""
    with open_source(url) as source:  # type: ignore[attr-defined]
        text = suggest_policy(source, **options)
        tables = source.tables()
    return text, policy_from_data(yaml.safe_load(text), url), tables

"""The source's foreign keys, and those a policy breaks: a key whose two columns both reach
the mirror, but hold values that no longer match there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from safemirror.policy.model import Action, Policy
from safemirror.sources.base import Source, TableInfo

ForeignKeys = dict[str, dict[str, tuple[str, str]]]  # table -> column -> (table, column)


@runtime_checkable
class _HasForeignKeys(Protocol):
    def foreign_keys(self) -> ForeignKeys: ...


def foreign_keys_of(source: Source) -> ForeignKeys:
    """``source``'s foreign keys, composite ones column by column; none if it cannot tell."""
    return source.foreign_keys() if isinstance(source, _HasForeignKeys) else {}


def with_implied_keys(tables: Mapping[str, TableInfo], declared: ForeignKeys) -> ForeignKeys:
    """``declared`` and the references implied by name: a column named as exactly one
    other table's whole primary key, a name of two words or more (``hubs.member_key`` ->
    ``members.member_key``; not ``id`` or ``code``). SQLite schemas often declare none."""
    owners: dict[str, list[str]] = {}
    for table, info in tables.items():
        if len(info.primary_key) == 1 and "_" in info.primary_key[0].strip("_"):
            owners.setdefault(info.primary_key[0], []).append(table)
    implied: ForeignKeys = {t: dict(columns) for t, columns in declared.items()}
    for table, info in tables.items():
        for col in info.columns:
            owner = owners.get(col.name, [])
            if len(owner) != 1 or owner[0] == table or col.name in declared.get(table, {}):
                continue
            implied.setdefault(table, {})[col.name] = (owner[0], col.name)
    return implied


def _in_mirror(policy: Policy, table: str, column: str) -> str | None:
    """How the mirror holds ``table.column``'s values, if it holds them as they are or as
    pseudonyms (a dropped, coarsened or skipped column joins nothing)."""
    table_policy = policy.tables.get(table)
    if table_policy is None or table_policy.skip:
        return None
    spec = table_policy.columns.get(column)
    if spec is None:
        return None
    if spec.action is Action.KEEP:
        return "as it is"
    if spec.action is Action.PSEUDONYMIZE:
        return f"pseudonymized in domain {spec.domain}"
    return None


def broken_joins(policy: Policy, foreign_keys: ForeignKeys) -> list[str]:
    """One line for each foreign-key column that reaches the mirror in another form than
    the column it references: the two no longer join there."""
    lines = []
    for table, columns in sorted(foreign_keys.items()):
        for column, (ref_table, ref_column) in sorted(columns.items()):
            held = _in_mirror(policy, table, column)
            ref_held = _in_mirror(policy, ref_table, ref_column)
            if held is None or ref_held is None or held == ref_held:
                continue
            lines.append(
                f"{table}.{column} references {ref_table}.{ref_column}, but the mirror holds "
                f"it {held} and {ref_table}.{ref_column} {ref_held}: the two no longer join; "
                "pseudonymize both in one domain"
            )
    return lines

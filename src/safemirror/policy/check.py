"""Fail closed: compare a policy with the live schema and list every mismatch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from safemirror.policy.model import LOOKBACK_TYPES, Action, Policy, TablePolicy
from safemirror.sources.base import ColumnInfo, TableInfo
from safemirror.sources.common import decimal_params

ProblemKind = Literal[
    "unclassified table",
    "unclassified column",
    "vanished table",
    "vanished column",
    "type changed",
    "precision changed",
    "action does not fit the type",
    "lookback needs a time cursor",
    "not readable by the source's role",
]


_AS_NUMBERS = (Action.KEEP, Action.GENERALIZE)  # the actions that mirror numbers as such
_ROUNDED = (
    "a numeric without a precision of at most 38 digits is read as a double, rounded "
    "beyond 15-17 significant digits"
)


@dataclass(frozen=True)
class Problem:
    """One mismatch between the policy and the live schema, with the fix."""

    table: str
    column: str | None  # None for a whole table
    kind: ProblemKind
    fix: str

    def describe(self) -> str:
        where = self.table + (f".{self.column}" if self.column else "")
        return f"{where}: {self.kind} — {self.fix}"


def check_policy(policy: Policy, tables: dict[str, TableInfo]) -> list[Problem]:
    """Every unclassified or vanished table and column, every column whose pinned
    ``type`` differs from the live one, and every unpinned column whose action cannot
    apply to its live type; empty when the policy covers the schema exactly."""
    problems: list[Problem] = []
    for name in sorted(set(tables) | set(policy.tables)):
        info, table_policy = tables.get(name), policy.tables.get(name)
        if table_policy is None:
            problems.append(
                Problem(
                    name,
                    None,
                    "unclassified table",
                    f"add table '{name}' to the policy: classify each of its "
                    f"columns, or write '{name}: skip' to leave it in production",
                )
            )
            continue
        if info is None:
            problems.append(
                Problem(
                    name,
                    None,
                    "vanished table",
                    f"table '{name}' is no longer in the source; remove it from "
                    "the policy (or fix the source URL/schema)",
                )
            )
            continue
        if table_policy.skip:
            continue
        problems += _unreadable(info, table_policy)
        live = {c.name: c for c in info.columns}
        for column in info.columns:
            if column.name not in table_policy.columns:
                problems.append(
                    Problem(
                        name,
                        column.name,
                        "unclassified column",
                        f"classify it in the policy, e.g. '{column.name}: drop' (a new "
                        f"{column.type} column; choose keep, drop, secret, pseudonymize or "
                        "generalize)",
                    )
                )
        for column_name, spec in table_policy.columns.items():
            col = live.get(column_name)
            if col is None:
                problems.append(
                    Problem(
                        name,
                        column_name,
                        "vanished column",
                        f"column '{column_name}' is no longer in table '{name}'; "
                        "remove it from the policy (and from primary_key/cursor)",
                    )
                )
            elif spec.type is None and (why := spec.misfit(col.type)):
                if col.rounded:
                    why += f" ({_ROUNDED}; declare it numeric(p), p <= 38, to keep it exact)"
                problems.append(Problem(name, column_name, "action does not fit the type", why))
            elif spec.type is not None and spec.type != col.type:
                problems.append(
                    Problem(
                        name,
                        column_name,
                        "type changed",
                        f"the policy pins type {spec.type} but the source now has "
                        f"{col.described()}; review the column's classification, then set "
                        f"'type: {col.type}'",
                    )
                )
            elif (
                table_policy.lookback
                and column_name in table_policy.cursor
                and col.type not in LOOKBACK_TYPES
            ):
                problems.append(
                    Problem(
                        name,
                        column_name,
                        "lookback needs a time cursor",
                        f"lookback {table_policy.lookback} goes back in time, and this "
                        f"cursor column is {col.described()}: remove the lookback, or use "
                        "a timestamp or date cursor",
                    )
                )
    return problems


def rounded_notes(policy: Policy, tables: dict[str, TableInfo]) -> list[str]:
    """One note for each column the mirror holds rounded: a numeric without a precision of
    at most 38 digits (``ColumnInfo.rounded``) that the policy keeps or generalizes."""
    notes = []
    for name, table_policy in sorted(policy.mirrored_tables.items()):
        info = tables.get(name)
        for col in info.columns if info is not None else ():
            spec = table_policy.columns.get(col.name)
            if col.rounded and spec is not None and spec.action in _AS_NUMBERS:
                notes.append(
                    f"{name}.{col.name}: {_ROUNDED}: the mirror holds it rounded; declare it "
                    "numeric(p), p <= 38, to mirror it exactly"
                )
    return notes


def _unreadable(info: TableInfo, table_policy: TablePolicy) -> list[Problem]:
    """The columns a sync of ``info`` reads that the source's role may not read: those it
    copies, keys on or tracks, and the sensitive text columns verify compares the mirror
    with. Columns that are never read (a dropped number, say) may stay withheld."""
    if not any(c.readable for c in info.columns):
        return [
            Problem(
                info.name,
                None,
                "not readable by the source's role",
                f"grant the role of the source URL SELECT on table '{info.name}', or write "
                f"'{info.name}: skip' to leave it in production",
            )
        ]
    copied = {*table_policy.selected_columns, *table_policy.primary_key}
    problems = []
    for column in info.columns:
        spec = table_policy.columns.get(column.name)
        if column.readable or spec is None:
            continue
        if column.name in copied:
            why = "the sync reads it"
        elif spec.compared(column.type):
            why = (
                f"verify reads its values (it is {spec.action}) to prove that none of "
                "them reached the mirror"
            )
        else:
            continue
        problems.append(
            Problem(
                info.name,
                column.name,
                "not readable by the source's role",
                f"grant the role of the source URL SELECT on column '{column.name}' of "
                f"table '{info.name}': {why}",
            )
        )
    return problems


def snapshot_type(col: ColumnInfo) -> str:
    """The type a run records for ``col``: its logical type, and for a numeric its
    precision and scale (``numeric(10,2)``), which the mirror's DECIMAL column keeps."""
    params = decimal_params(col.source_type) if col.type == "numeric" else None
    return f"numeric({params[0]},{params[1]})" if params else col.type


def _precision_drift(table: str, column: str, old_type: str, now: ColumnInfo) -> Problem | None:
    """The problem of a numeric whose precision or scale changed since ``old_type`` (a
    run that recorded only ``numeric`` compared nothing more): the mirror's DECIMAL
    column would round new values to the old scale, or refuse them."""
    if now.type != "numeric" or not old_type.startswith("numeric(") or not now.source_type:
        return None
    if snapshot_type(now) == old_type:
        return None
    return Problem(
        table,
        column,
        "precision changed",
        f"the last sync read it as {old_type}, the source now has {snapshot_type(now)}, "
        "which the mirror's column would round or refuse; review its classification (a "
        "pseudonymized number's pseudonyms change with its scale), then rebuild the "
        "mirror with 'safemirror sync --full'",
    )


def type_drift(
    policy: Policy,
    tables: dict[str, TableInfo],
    snapshot: dict[str, dict[str, str]],
    *,
    full: bool = False,
) -> list[Problem]:
    """Every column whose live type differs from the one the last sync read
    (``snapshot``: table -> column -> type, from the mirror's last run) and that the policy
    does not pin (a pinned type that differs, a column or a table gone are
    ``check_policy``'s to report); and, pinned or not, every numeric whose precision or
    scale changed, unless the run is ``full`` (which rebuilds every table)."""
    problems: list[Problem] = []
    for table, columns in snapshot.items():
        info, table_policy = tables.get(table), policy.tables.get(table)
        if info is None or table_policy is None or table_policy.skip:
            continue
        for column, old_type in columns.items():
            now, pinned = info.column(column), table_policy.columns.get(column)
            if now is None:
                continue
            if (drift := _precision_drift(table, column, old_type, now)) is not None:
                problems += [] if full else [drift]
                continue
            if now.type == old_type.split("(")[0] or (pinned and pinned.type is not None):
                continue
            problems.append(
                Problem(
                    table,
                    column,
                    "type changed",
                    f"the last sync read it as {old_type}, the source now has "
                    f"{now.described()}; review its classification, then pin it with "
                    f"'type: {now.type}'",
                )
            )
    return problems


def schema_problems(
    policy: Policy,
    tables: dict[str, TableInfo],
    snapshot: dict[str, dict[str, str]],
    *,
    full: bool = False,
) -> list[Problem]:
    """Everything the sync would stop on: ``check_policy``'s problems, then ``type_drift``'s
    against ``snapshot`` (the schema the last sync read; empty before the first)."""
    drift = type_drift(policy, tables, snapshot, full=full)
    return [*check_policy(policy, tables), *drift]

"""Draft a complete data policy (YAML text) from a live schema and sampled values: every
table with its primary key, cursor and delete marker, every column classified by
``policy.classify`` with a ``# why`` comment. The draft errs toward drop."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.errors import AccessDenied, SourceError
from safemirror.mirror.schema import reserved_name
from safemirror.policy.classify import (
    Choice,
    classify,
    looks_like_times,
    reference,
    snake_name,
)
from safemirror.policy.domains import Domains
from safemirror.policy.joins import ForeignKeys, foreign_keys_of, with_implied_keys
from safemirror.sources.base import ColumnInfo, Source, TableInfo


@runtime_checkable
class _HasGeneratedColumns(Protocol):
    def generated_columns(self) -> dict[str, dict[str, tuple[str, ...]]]: ...


@runtime_checkable
class _LeavesTablesOut(Protocol):
    def left_out(self) -> list[str]: ...


_NOT_GRANTED = "the source role may not read it: GRANT it SELECT, then run suggest again"
_DELETE_FLAGS = ("is_deleted", "deleted")  # boolean soft-delete flags, in that order
# Columns that say when a row was last written, in order of preference.
_CHANGE_STAMPS = (
    "updated_at",
    "modified_at",
    "changed_at",
    "last_modified",
    "last_modified_at",
    "last_updated",
    "updated_on",
    "modified_on",
)


def _cursor(info: TableInfo, sample: pa.Table) -> tuple[list[str], str | None]:
    by_snake: dict[str, ColumnInfo] = {}
    for col in info.columns:  # deletedAt, DeletedAt and deleted_at alike
        by_snake.setdefault(snake_name(col.name), col)

    def named(snake: str, kind: str) -> str | None:
        col = by_snake.get(snake)
        if col is None:
            return None
        if col.type == kind:
            return col.name
        if kind != "timestamp" or col.type != "text" or col.name not in sample.column_names:
            return None
        values = sample.column(col.name)  # SQLite's CURRENT_TIMESTAMP in a TEXT column:
        if looks_like_times(values) or (snake == "deleted_at" and not pc.count(values).as_py()):
            return col.name  # compared as text; a marker that marks no sampled row yet
        return None

    marker = named("deleted_at", "timestamp")
    flag = next(filter(None, (named(n, "boolean") for n in _DELETE_FLAGS)), None)
    stamp = next(filter(None, (named(n, "timestamp") for n in _CHANGE_STAMPS)), None)
    if stamp is not None:
        # Rows with no change stamp (set on update only) would never be read incrementally:
        # created_at, when the sample shows such rows, finds them as they are added.
        unstamped = stamp in sample.column_names and sample.column(stamp).null_count
        created = named("created_at", "timestamp")
        first = [created] if unstamped and created else []
        return [*first, stamp, *([marker] if marker else [])], marker or flag
    soon = datetime.now(UTC) + timedelta(days=1)
    cursor = []
    for col in info.columns:
        if col.type != "timestamp" or "birth" in col.name.lower():
            continue
        if col.name not in sample.column_names or not _lies_ahead(sample.column(col.name), soon):
            cursor.append(col.name)  # expires_at lies in the future: not a change
    return cursor, marker or flag


def _is_change_stamp(name: str) -> bool:
    return snake_name(name) in _CHANGE_STAMPS


def _lies_ahead(values: pa.ChunkedArray, moment: datetime) -> bool:
    """Whether any of the timestamps ``values`` is later than ``moment`` (compared in Arrow:
    PostgreSQL's ``infinity`` is no Python datetime)."""
    naive = values.type.tz is None
    bound = pa.scalar(moment.replace(tzinfo=None) if naive else moment, values.type)
    return bool(pc.any(pc.greater(values, bound)).as_py())


def _key(name: str) -> str:
    """``name`` as a YAML mapping key (quoted unless plainly safe)."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.lower() not in {
        "y",
        "yes",
        "n",
        "no",
        "true",
        "false",
        "on",
        "off",
        "null",
    }
    if plain:
        return name
    quoted = json.dumps(name, ensure_ascii=False)  # a JSON string is a YAML double-quoted one
    return "".join(c if c.isprintable() else _escape(c) for c in quoted)


def _escape(char: str) -> str:
    """A character YAML could read as a line break or drop, as a YAML escape."""
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _unfit_name(name: str, seen: dict[str, str]) -> str:
    """Why ``name`` cannot reach the mirror (empty if it can), given the names already taken
    (folded -> as spelled; ``name`` is added): reserved, or the same as one but for case."""
    if reserved_name(name):
        return "a name safemirror keeps for itself ('_sm_…', '…__sm_new'): rename it to mirror it"
    other = seen.setdefault(name.lower(), name)
    if other != name:
        return f"the mirror ignores case and already has '{other}'"
    return ""


def _flow(choice: Choice, col: ColumnInfo) -> str:
    items = [f"action: {choice.action}"]
    items += [f"{k}: {_key(v) if isinstance(v, str) else v}" for k, v in choice.params.items()]
    items.append(f"type: {col.type}")
    return "{" + ", ".join(items) + "}"


def _table_lines(
    name: str,
    info: TableInfo,
    sample: pa.Table,
    fks: ForeignKeys,
    declared: ForeignKeys,
    domains: Domains,
    seen_tables: dict[str, str],
    generated: dict[str, tuple[str, ...]],
) -> list[str]:
    key = primary = list(info.primary_key)
    note = ""
    if not primary and info.column("id") is not None:
        key, note = ["id"], "  # no primary key declared; 'id' assumed"
        info = TableInfo(info.name, info.columns, ("id",))
    if not key:
        return [
            f"  {_key(name)}: skip  # no primary key: a mirror row could not be "
            "identified; declare one, then classify this table"
        ]
    seen: dict[str, str] = {}  # the names of the columns that reach the mirror, folded
    unfit = next(filter(None, (_unfit_name(k, seen) for k in key)), "")
    if unfit:
        return [f"  {_key(name)}: skip  # a key column: {unfit}"]
    unfit = _unfit_name(name, seen_tables)
    if unfit:
        return [f"  {_key(name)}: skip  # {unfit}"]
    cursor, marker = _cursor(info, sample)
    lines = [f"  {_key(name)}:", f"    primary_key: [{', '.join(map(_key, key))}]{note}"]
    if cursor and not any(map(_is_change_stamp, cursor)):
        lines += [
            "    # cursor: when rows happened, not when they were written. A row that arrives",
            "    # stamped before the last run (a late upload), or changes in place, is read",
            "    # only by 'sync --full': prefer a column the database sets on every write,",
            "    # or set 'lookback: 2d' to read the last two days again on every run.",
        ]
    if any(c.type == "text" for c in info.columns if c.name in cursor):
        lines += [
            "    # cursor: times stored as text, compared as text: the application must write",
            "    # every one in the same format (as SQLite's CURRENT_TIMESTAMP does).",
        ]
    if cursor:
        lines.append(f"    cursor: [{', '.join(map(_key, cursor))}]")
    else:
        lines.append("    # no change-time column: every sync re-reads the whole table")
    if marker:
        lines.append(f"    delete_marker: {_key(marker)}")
    lines.append("    columns:")
    choices: dict[str, Choice] = {}
    for col in info.columns:
        values = (
            sample.column(col.name)
            if col.name in sample.column_names
            else pa.chunked_array([], pa.null())
        )
        fk = reference(name, col.name, domains, fks)
        if fk is not None and col.name not in declared.get(name, {}):
            fk = replace(fk, implied=True)
        choice = classify(name, info, col, values, fk=fk, domains=domains)
        if choice.action == "secret" and (col.name in cursor or col.name == marker):
            choice = Choice("drop", f"{choice.why}; drop, not secret: the sync reads it")
        choices[col.name] = choice
    for col in info.columns:
        choice = choices[col.name]
        hidden = [
            c
            for c in generated.get(col.name, ())
            if c not in choices or choices[c].action != "keep"
        ]
        if hidden and col.name not in key and choice.action != "secret":
            they = ("it", "it is") if len(hidden) == 1 else ("them", "they are")
            choice = Choice(
                "drop",
                f"generated from {', '.join(hidden)}, which the mirror does not keep as "
                f"{they[1]}: its values could give {they[0]} away",
            )
        unfit = (
            ""
            if col.name in key or choice.action in ("drop", "secret")
            else _unfit_name(col.name, seen)
        )
        if unfit:
            choice = Choice("drop", unfit)
        why = " ".join(choice.why.split())
        lines.append(f"      {_key(col.name)}: {_flow(choice, col)}  # {why}")
    return lines


def _unsampled(name: str, exc: SourceError, warn: Callable[[str], None] | None) -> str:
    """The draft's line for a table whose rows could not be read: skipped, saying why.
    The error itself goes to ``warn`` only: it may quote a value, which the draft (a file
    that is reviewed and committed) must not hold."""
    message = " ".join(exc.message.split())
    if isinstance(exc, AccessDenied):
        reason = _NOT_GRANTED
    else:
        reason = "its rows could not be read (suggest said why): fix that, then run it again"
    if warn is not None:
        warn(f"table '{name}' left out of the draft (skip): {message}")
    return f"  {_key(name)}: skip  # {reason}"


def _withheld(
    name: str, withheld: list[str], width: int, warn: Callable[[str], None] | None
) -> str:
    """The draft's line for a table with columns the source's role may not read: skipped.
    Its values cannot be sampled, and verify must read every sensitive column."""
    if len(withheld) == width:
        reason = _NOT_GRANTED
    else:
        reason = (
            f"the source role may not read {len(withheld)} of its {width} columns: GRANT it "
            "SELECT on the table (verify reads every sensitive column), then run suggest again"
        )
    if warn is not None:
        warn(
            f"table '{name}' left out of the draft (skip): the role may not read column(s) "
            + ", ".join(withheld)
        )
    return f"  {_key(name)}: skip  # {reason}"


def _left_out_lines(source: Source) -> list[str]:
    """Comment lines naming the tables the source never lists (SQLite's virtual tables)."""
    names = source.left_out() if isinstance(source, _LeavesTablesOut) else []
    if not names:
        return []
    return [
        "# Left out, never read: virtual tables (full-text or R*Tree indexes) and the",
        f"# tables that keep their data: {', '.join(map(_key, names))}.",
    ]


def suggest_policy(
    source: Source, sample_rows: int = 2000, *, warn: Callable[[str], None] | None = None
) -> str:
    """A complete policy (YAML text with a ``# why`` comment on every column) drafted from
    ``source``'s live schema and up to ``sample_rows`` sampled rows per table. A table
    whose rows cannot be read is drafted as ``skip`` (and ``warn`` told why)."""
    tables = source.tables()
    declared = foreign_keys_of(source)
    fks = with_implied_keys(tables, declared)
    generated = source.generated_columns() if isinstance(source, _HasGeneratedColumns) else {}
    lines = [
        "# safemirror data policy, drafted by 'safemirror policy suggest' from",
        f"# {source.display_url} (up to {sample_rows} sampled rows per table).",
        "# It errs toward drop. Review every line before the first sync: the comment after",
        "# each column says why it was chosen. Actions: keep, drop, secret,",
        "# pseudonymize (domain), generalize (truncate | bucket | min_count).",
        *_left_out_lines(source),
        "version: 1",
        "tables:",
    ]
    if not tables:
        lines[-1] = "tables: {}  # the source has no tables"
    seen_tables: dict[str, str] = {}  # mirrored table names, folded -> as spelled
    domains = Domains(tables)
    for name in sorted(tables):
        info = tables[name]
        columns = [c.name for c in info.columns]
        withheld = [c.name for c in info.columns if not c.readable]
        if withheld:
            lines.append(_withheld(name, withheld, len(columns), warn))
            continue
        try:
            sample = source.sample(name, columns, sample_rows) if columns else pa.table({})
        except SourceError as exc:
            lines.append(_unsampled(name, exc, warn))
            continue
        extra = generated.get(name, {})
        lines += _table_lines(name, info, sample, fks, declared, domains, seen_tables, extra)
    return "\n".join(lines) + "\n"

"""Policy model: every column of every table carries exactly one action.

A column entry is either a bare action name (``email: secret``) or a mapping with an
``action`` key, the action's parameters and an optional pinned ``type``::

    id: {action: pseudonymize, domain: user, type: bigint}
    created_at: {action: generalize, truncate: day, type: timestamp}
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from safemirror.mirror.schema import REBUILT_SUFFIX, SYSTEM_PREFIX, reserved_name

LOGICAL_TYPES = (
    "bigint",
    "integer",
    "double",
    "numeric",
    "boolean",
    "text",
    "timestamp",
    "date",
    "blob",
)
LogicalType = Literal[
    "bigint", "integer", "double", "numeric", "boolean", "text", "timestamp", "date", "blob"
]
Grain = Literal["hour", "day", "week", "month", "year"]


# The logical types each transform that depends on the type takes (see ``transforms``).
PSEUDONYMIZED_TYPES = ("bigint", "integer", "numeric", "text", "blob")
_TAKEN_BY: dict[str, tuple[str, ...]] = {
    "truncate": ("timestamp", "date"),
    "bucket": ("bigint", "integer", "double", "numeric"),
    "min_count": ("text",),
}


_LOOKBACK = re.compile(r"^\s*([1-9][0-9]{0,5})\s*([mhdw])\s*$")
_LOOKBACK_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
LOOKBACK_TYPES = ("timestamp", "date")  # the cursor types a lookback can go back on


def lookback_delta(text: str) -> timedelta:
    """A lookback (``90m``, ``36h``, ``2d``, ``1w``) as a duration."""
    found = _LOOKBACK.match(text)
    if found is None:
        raise ValueError(
            f"lookback {text!r} is not a duration: write a whole number and a unit, "
            "m (minutes), h (hours), d (days) or w (weeks), e.g. '2d'"
        )
    return timedelta(**{_LOOKBACK_UNITS[found.group(2)]: int(found.group(1))})


def is_domain(name: str) -> bool:
    """Whether ``name`` spells a pseudonymization domain: a lower-case letter of any script,
    then letters, digits, combining marks and ``_`` (``user``, ``order_line``, ``été``), in
    Unicode's composed form (NFC), so that each domain has one spelling only."""
    return (
        name[:1].isalpha()
        and name == name.lower()
        and name == unicodedata.normalize("NFC", name)
        and all(c.isalnum() or c == "_" or unicodedata.category(c)[0] == "M" for c in name)
    )


def _domain(name: str) -> str:
    if not is_domain(name):
        raise ValueError(
            f"domain {name!r} is not a domain name: use lower-case letters (of any script), "
            "digits and '_', starting with a letter (user, order_line, été), composed (NFC)"
        )
    return name


class Action(StrEnum):
    KEEP = "keep"
    DROP = "drop"
    SECRET = "secret"
    PSEUDONYMIZE = "pseudonymize"
    GENERALIZE = "generalize"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnPolicy(_Strict):
    """One column's classification."""

    action: Action
    type: LogicalType | None = None
    domain: Annotated[str, AfterValidator(_domain)] | None = None
    truncate: Grain | None = None
    bucket: Annotated[float, Field(gt=0)] | None = None
    min_count: Annotated[int, Field(ge=2)] | None = None
    other: str = "other"
    note: str | None = None

    @model_validator(mode="after")
    def _params_fit_action(self) -> ColumnPolicy:
        generalizers = [p for p in ("truncate", "bucket", "min_count") if getattr(self, p)]
        if self.action is Action.PSEUDONYMIZE and not self.domain:
            raise ValueError(
                "pseudonymize needs a domain, e.g. {action: pseudonymize, domain: user}"
            )
        if self.action is not Action.PSEUDONYMIZE and self.domain:
            raise ValueError(f"'domain' only applies to pseudonymize, not {self.action.value}")
        if self.action is Action.GENERALIZE and len(generalizers) != 1:
            raise ValueError(
                "generalize needs exactly one of truncate (hour/day/week/month/"
                "year), bucket (a width) or min_count (a category frequency)"
            )
        if self.action is not Action.GENERALIZE and generalizers:
            raise ValueError(f"{', '.join(generalizers)} only applies to generalize")
        if self.type is not None and (why := self.misfit(self.type)):
            raise ValueError(why)
        return self

    def misfit(self, logical: str) -> str | None:
        """Why this classification cannot apply to a column of type ``logical``, with
        what to do instead; None when it can."""
        taken: tuple[str, ...]
        if self.action is Action.PSEUDONYMIZE:
            taken, what = PSEUDONYMIZED_TYPES, "pseudonymize"
        elif self.action is Action.GENERALIZE:
            param = next(p for p in _TAKEN_BY if getattr(self, p))
            taken, what = _TAKEN_BY[param], f"generalize with {param}"
        else:
            return None
        if logical in taken:
            return None
        types = " or ".join([", ".join(taken[:-1]), taken[-1]] if len(taken) > 1 else taken)
        return (
            f"{what} takes {types} columns, not {logical}: choose keep, drop or an action "
            "for its type"
        )

    @property
    def moves(self) -> bool:
        """True when some form of the column reaches the mirror."""
        return self.action not in (Action.DROP, Action.SECRET)

    @property
    def sensitive(self) -> bool:
        """True when raw values must never appear in the mirror."""
        return self.action in (Action.DROP, Action.SECRET, Action.PSEUDONYMIZE)

    def compared(self, live_type: str) -> bool:
        """Whether verify matches the mirror with this column's production values (those
        of a sensitive text column), given its live type."""
        return self.sensitive and live_type == "text"


def _check_mirror_names(kind: str, names: list[str]) -> None:
    """Refuse mirror names DuckDB cannot keep apart (it ignores case) or that safemirror
    keeps for its own tables and columns."""
    seen: dict[str, str] = {}
    for name in names:
        if reserved_name(name):
            raise ValueError(
                f"{kind} '{name}' would reach the mirror under a name safemirror keeps for "
                f"itself (prefix '{SYSTEM_PREFIX}', suffix '{REBUILT_SUFFIX}'): rename it in "
                f"the source, or {'drop it' if kind == 'column' else 'skip it'}"
            )
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise ValueError(
                f"{kind}s '{other}' and '{name}' differ only in case, which the mirror "
                f"(DuckDB) does not tell apart: {'drop' if kind == 'column' else 'skip'} "
                "one of them"
            )


class TablePolicy(_Strict):
    """One table: its keys, its change cursor and its columns."""

    skip: bool = False
    primary_key: list[str] = Field(default_factory=list)
    cursor: list[str] = Field(default_factory=list)
    delete_marker: str | None = None
    access: Literal["sql", "aggregate"] = "sql"
    # How far before its watermark each incremental read starts, for rows that arrive
    # stamped in the past (late uploads under a cursor of event times).
    lookback: str | None = None
    columns: dict[str, ColumnPolicy] = Field(default_factory=dict)

    @field_validator("lookback")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is None:
            return None
        lookback_delta(value)
        return re.sub(r"\s+", "", value)

    @field_validator("primary_key", "cursor", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {
            name: ({"action": spec} if isinstance(spec, str) else spec)
            for name, spec in value.items()
        }

    @model_validator(mode="after")
    def _consistent(self) -> TablePolicy:
        if self.skip:
            if self.columns or self.primary_key or self.cursor or self.lookback:
                raise ValueError("a skipped table takes no other settings")
            return self
        if not self.columns:
            raise ValueError(
                "no columns classified (every column needs an action, or "
                "'skip: true' for the whole table)"
            )
        if not self.primary_key:
            raise ValueError("primary_key is required (the column(s) that identify a row)")
        if self.lookback and not self.cursor:
            raise ValueError(
                "lookback re-reads rows by their cursor, and this table has none: add a "
                "cursor or remove the lookback"
            )
        for role, names in (
            ("primary_key", self.primary_key),
            ("cursor", self.cursor),
            ("delete_marker", [self.delete_marker] if self.delete_marker else []),
        ):
            for name in names:
                if names.count(name) > 1:
                    raise ValueError(f"{role} names column '{name}' more than once")
                if name not in self.columns:
                    raise ValueError(f"{role} names column '{name}', which is not classified")
                if role != "primary_key" and self.columns[name].action is Action.SECRET:
                    raise ValueError(
                        f"{role} column '{name}' is secret, which the sync never reads: "
                        "classify it drop (read to find changes, never copied) or keep"
                    )
        _check_mirror_names("column", self.mirrored_columns)
        for name in self.primary_key:
            if not self.columns[name].moves:
                raise ValueError(
                    f"primary key column '{name}' must reach the mirror (keep or pseudonymize it)"
                )
            if self.columns[name].action is Action.GENERALIZE:
                raise ValueError(
                    f"primary key column '{name}' cannot be generalized (rows would collide)"
                )
        return self

    @property
    def lookback_delta(self) -> timedelta | None:
        return lookback_delta(self.lookback) if self.lookback else None

    def content_dump(self) -> dict[str, Any]:
        """The settings that decide what the mirror holds: all but ``lookback``, which
        only decides how much an incremental run reads again."""
        return self.model_dump(mode="json", exclude={"lookback"})

    @property
    def mirrored_columns(self) -> list[str]:
        return [n for n, c in self.columns.items() if c.moves]

    @property
    def selected_columns(self) -> list[str]:
        """Columns read from the source during a sync (never secrets)."""
        return [
            n
            for n, c in self.columns.items()
            if c.action is not Action.SECRET
            and (c.moves or n in self.cursor or n == self.delete_marker)
        ]


class Policy(_Strict):
    """A whole data policy."""

    version: Literal[1] = 1
    tables: dict[str, TablePolicy]

    @field_validator("tables", mode="before")
    @classmethod
    def _skip_shorthand(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {name: ({"skip": True} if spec == "skip" else spec) for name, spec in value.items()}

    @model_validator(mode="after")
    def _distinct_tables(self) -> Policy:
        _check_mirror_names("table", list(self.mirrored_tables))
        return self

    @property
    def mirrored_tables(self) -> dict[str, TablePolicy]:
        return {name: table for name, table in self.tables.items() if not table.skip}

    def digest(self) -> str:
        """A stable SHA-256 over the policy's meaning (not its formatting)."""
        meaning = self.model_dump(mode="json")
        for name, table in self.tables.items():  # an unset lookback: as before it existed
            if table.lookback is None:
                del meaning["tables"][name]["lookback"]
        canonical = json.dumps(meaning, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

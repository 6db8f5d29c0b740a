"""The operator registry: one builder per policy action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from safemirror.policy.model import Action, ColumnPolicy

ColumnOp = Callable[[pa.Array], pa.Array]


@dataclass
class TransformContext:
    """What operators may need beyond the column: the key and per-run lookups."""

    key: bytes | None = None
    allowed_values: dict[tuple[str, str], frozenset[Any]] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)


Builder = Callable[[str, str, ColumnPolicy, TransformContext], ColumnOp]
OPERATORS: dict[Action, Builder] = {}


def operator(action: Action) -> Callable[[Builder], Builder]:
    """Register ``builder`` as the operator for ``action``."""

    def wrap(builder: Builder) -> Builder:
        OPERATORS[action] = builder
        return builder

    return wrap


def build(table: str, column: str, spec: ColumnPolicy, ctx: TransformContext) -> ColumnOp:
    """The operator for one column, validated against its parameters before any data."""
    return OPERATORS[spec.action](table, column, spec, ctx)

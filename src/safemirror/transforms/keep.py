"""``keep``: copy the value; only timestamps are normalized to naive UTC."""

from __future__ import annotations

import pyarrow as pa

from safemirror.policy.model import Action, ColumnPolicy
from safemirror.transforms.registry import ColumnOp, TransformContext, operator


def naive_utc(values: pa.Array) -> pa.Array:
    """Timestamps with a zone become naive UTC timestamps (same instant)."""
    if pa.types.is_timestamp(values.type) and values.type.tz is not None:
        return values.cast(pa.timestamp(values.type.unit))
    return values


@operator(Action.KEEP)
def build_keep(table: str, column: str, spec: ColumnPolicy, ctx: TransformContext) -> ColumnOp:
    return naive_utc

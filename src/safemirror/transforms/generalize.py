"""``generalize``: coarsen a quasi-identifier.

- ``truncate: hour|day|week|month|year`` floors timestamps and dates (weeks start Monday);
- ``bucket: W`` floors numbers to a multiple of ``W`` (the type is kept);
- ``min_count: N`` keeps the categories in a given set of common values, anything else
  becomes ``other`` (which values are common, and how they stay so in the mirror, is
  ``sync.categories``).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.policy.model import Action, ColumnPolicy
from safemirror.transforms.keep import naive_utc
from safemirror.transforms.registry import ColumnOp, TransformContext, operator


def truncate(values: pa.Array, grain: str) -> pa.Array:
    """Floor to ``grain``; ``infinity`` and ``-infinity`` (the type's greatest value and its
    negation, as DuckDB and the PostgreSQL source have them) stay as they are."""
    if not (pa.types.is_timestamp(values.type) or pa.types.is_date(values.type)):
        raise TypeError(f"truncate applies to timestamps and dates, not {values.type}")
    values = naive_utc(values)
    storage = pa.int32() if pa.types.is_date32(values.type) else pa.int64()
    greatest = 2 ** (storage.bit_width - 1) - 1
    raw = values.view(storage)
    finite = pc.and_(pc.greater(raw, -greatest), pc.less(raw, greatest))
    if pc.all(finite).as_py() is False:
        real = pc.if_else(finite, raw, pa.scalar(0, storage)).view(values.type)
        floored = pc.floor_temporal(real, unit=grain, week_starts_monday=True)
        return pc.if_else(finite, floored.cast(values.type), values)
    floored = pc.floor_temporal(values, unit=grain, week_starts_monday=True)
    return floored.cast(values.type)


def bucket(values: pa.Array, width: float) -> pa.Array:
    if not (
        pa.types.is_integer(values.type)
        or pa.types.is_floating(values.type)
        or pa.types.is_decimal(values.type)
    ):
        raise TypeError(f"bucket applies to numbers, not {values.type}")
    as_float = values.cast(pa.float64())
    floored = pc.multiply(pc.floor(pc.divide(as_float, width)), width)
    return floored.cast(values.type, safe=False)


def allowed_array(allowed: frozenset[object]) -> pa.Array:
    """The common values as a string array, built once per column rather than per batch."""
    return pa.array(sorted(str(v) for v in allowed if v is not None), pa.string())


def keep_common(values: pa.Array, allowed: frozenset[object] | pa.Array, other: str) -> pa.Array:
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    allowed_set = allowed if isinstance(allowed, pa.Array) else allowed_array(allowed)
    common = pc.is_in(values, value_set=allowed_set)
    replaced = pc.if_else(common, values, pa.scalar(other, values.type))
    return pc.if_else(values.is_valid(), replaced, pa.scalar(None, values.type))


@operator(Action.GENERALIZE)
def build_generalize(
    table: str, column: str, spec: ColumnPolicy, ctx: TransformContext
) -> ColumnOp:
    if spec.truncate:
        grain = spec.truncate
        return lambda values: truncate(values, grain)
    if spec.bucket:
        width = spec.bucket
        return lambda values: bucket(values, width)
    allowed = ctx.allowed_values.get((table, column))
    if allowed is None:
        raise ValueError(f"{table}.{column}: the common values were not counted before the run")
    other, allowed_set = spec.other, allowed_array(allowed)
    return lambda values: keep_common(values, allowed_set, other)

"""The record batches the PostgreSQL driver hands over, made canonical.

``refuse_undecoded`` stops at a column the driver could not decode; ``take_versions``
splits off the row versions an incremental read asks for (``pg_sql``);
``restore_infinities`` puts back PostgreSQL's infinite dates and timestamps.

PostgreSQL counts from 2000, Arrow from 1970. The ADBC driver (1.8) moves each date and
timestamp to Arrow's epoch by adding 30 years without checking for overflow, so
``'infinity'`` and ``'-infinity'`` (stored as the type's greatest and least values) wrap
round to two instants some 292,000 years BC, long before PostgreSQL's earliest real one
(4714 BC). Left so, a token that never expires would read as expired since the Stone Age.
``restore_infinities`` puts those two values back as the infinities DuckDB itself uses
(the type's greatest value, and its negation), which the mirror shows as ``infinity`` and
``-infinity``; no other value can lie that far back. A test reads both from a real server,
so a driver that delivers them otherwise is caught.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.errors import SourceError

_EPOCH_SHIFT_US = 946_684_800_000_000  # 2000-01-01 minus 1970-01-01, in microseconds
_EPOCH_SHIFT_DAYS = 10_957


class _Bounds:
    """One temporal type's storage, its wrapped infinities and DuckDB's."""

    def __init__(self, storage: pa.DataType, shift: int, earliest: int) -> None:
        greatest = 2 ** (storage.bit_width - 1) - 1
        least = -greatest - 1
        self.storage = storage
        self.wrapped_infinity = least + shift - 1  # greatest + shift, wrapped round
        self.wrapped_minus_infinity = least + shift
        self.earliest = earliest  # PostgreSQL's earliest real value, in Arrow's epoch
        self.infinity, self.minus_infinity = greatest, -greatest  # DuckDB's


_TIMESTAMPS = _Bounds(pa.int64(), _EPOCH_SHIFT_US, -210_866_803_200_000_000)  # 4714 BC
_DATES = _Bounds(pa.int32(), _EPOCH_SHIFT_DAYS, -2_440_588)


def _bounds_of(dtype: pa.DataType) -> _Bounds | None:
    """The bounds of a date or microsecond timestamp type; None for any other."""
    if pa.types.is_timestamp(dtype) and dtype.unit == "us":
        return _TIMESTAMPS
    if pa.types.is_date32(dtype):
        return _DATES
    return None


def _restored(values: pa.Array, bounds: _Bounds) -> pa.Array | None:
    """``values`` with its wrapped infinities put back; None when it holds none."""
    raw = values.view(bounds.storage)
    least = pc.min(raw).as_py()
    if least is None or least >= bounds.earliest:
        return None
    storage = bounds.storage
    fixed = pc.if_else(
        pc.equal(raw, pa.scalar(bounds.wrapped_infinity, storage)),
        pa.scalar(bounds.infinity, storage),
        pc.if_else(
            pc.equal(raw, pa.scalar(bounds.wrapped_minus_infinity, storage)),
            pa.scalar(bounds.minus_infinity, storage),
            raw,
        ),
    )
    return fixed.view(values.type)


def restore_infinities(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with every date and timestamp column's infinities as DuckDB's."""
    columns = list(batch.columns)
    changed = False
    for index, field in enumerate(batch.schema):
        bounds = _bounds_of(field.type)
        fixed = None if bounds is None else _restored(batch.column(index), bounds)
        if fixed is not None:
            columns[index], changed = fixed, True
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema) if changed else batch


def refuse_undecoded(schema: pa.Schema) -> None:
    """Refuse a result with a column the driver could not decode. Every column is selected
    as a built-in type (``select_expr``), so one arriving as opaque bytes is a bug."""
    for field in schema:
        if isinstance(field.type, pa.OpaqueType):
            raise SourceError(
                f"the source returned column {field.name!r} in a type the reader does not "
                f"decode ({field.type.type_name})",
                hint="this is a bug in safemirror's PostgreSQL reader; please report it",
            )


def take_versions(batch: pa.RecordBatch, versions: set[int]) -> pa.RecordBatch:
    """``batch`` without its last column, whose row versions go into ``versions``."""
    last = batch.num_columns - 1
    versions.update(pc.unique(pc.drop_null(batch.column(last))).to_pylist())
    return batch.select(range(last))  # by position: a source column may share its name

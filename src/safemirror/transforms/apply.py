"""Run a table policy over record batches: the ordered pipeline of column operators."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

from safemirror.policy.model import TablePolicy

# Importing the operator modules registers them.
from safemirror.transforms import drop, generalize, keep, pseudonymize  # noqa: F401
from safemirror.transforms.registry import ColumnOp, TransformContext, build


class TableTransform:
    """The compiled operators of one table; ``__call__`` maps a batch to its mirror form.

    Columns selected only to drive the sync (cursor, delete marker) but not mirrored are
    left out; a column the batch lacks is an error, never silently skipped.
    """

    def __init__(
        self, name: str, policy: TablePolicy, ctx: TransformContext, extra: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.ops: list[tuple[str, ColumnOp]] = [
            (column, build(name, column, policy.columns[column], ctx))
            for column in policy.mirrored_columns
        ]
        self.extra = extra

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays, names = [], []
        for column, op in self.ops:
            index = batch.schema.get_field_index(column)
            if index < 0:
                raise KeyError(f"{self.name}.{column} is missing from the source batch")
            arrays.append(op(batch.column(index)))
            names.append(column)
        for column in self.extra:
            arrays.append(batch.column(batch.schema.get_field_index(column)))
            names.append(column)
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def stream(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield self(batch)

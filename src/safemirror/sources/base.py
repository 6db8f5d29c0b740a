"""The source interface: a production database read as Arrow record batches.

Every source yields batches with canonical Arrow types, whatever the database:
``int64`` (bigint), ``int32`` (integer), ``float64`` (double), ``bool``, ``string`` (text),
``timestamp[us, UTC]`` (timestamp), ``date32`` (date), ``binary`` (blob),
``decimal128`` (numeric). So transforms and the mirror see one type system.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str  # a policy logical type: bigint, integer, double, numeric, boolean, text, ...
    nullable: bool
    source_type: str  # the database's own spelling, for messages
    readable: bool = True  # whether the source's role may read it (PostgreSQL's privileges)
    # Read as a double though the source keeps it exactly: a numeric without a precision of
    # at most 38 digits, whose values beyond 15-17 significant digits come out rounded.
    rounded: bool = False

    def described(self) -> str:
        """The column's type for a message: ``bigint``, or ``text (citext)`` where the
        database spells it otherwise."""
        if self.source_type.lower() == self.type:
            return self.type
        return f"{self.type} ({self.source_type})"


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...]
    # Whether keys distinct in the source stay distinct as read. SQLite keeps a value's
    # storage class: 1, '1' and x'31' are three keys of an untyped or TEXT column that all
    # read as '1'; text that is not valid UTF-8 reads with U+FFFD. Only integers are exact.
    # Nor is a ``rounded`` column: 2**53 and 2**53 + 1 read as one double.
    key_read_exactly: bool = True

    def column(self, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns if c.name == name), None)


class Source(Protocol):
    """A readable production database."""

    display_url: str  # the URL with any password removed; safe to print and log

    def tables(self) -> dict[str, TableInfo]:
        """Every user table with its columns (in table order) and primary key."""
        ...

    def read(
        self,
        table: str,
        columns: Sequence[str],
        *,
        since: Any | None = None,
        cursor: Sequence[str] = (),
        skip_versions: Sequence[int] = (),
        versions_at: Any | None = None,
        versions: set[int] | None = None,
        batch_rows: int = 131_072,
    ) -> Iterator[pa.RecordBatch]:
        """Stream ``columns`` of ``table``; with ``since``, only rows where any cursor
        column is ``>= since``. Batches have the canonical Arrow types; memory is bounded
        by the batch size, not the table size.

        A source whose rows carry versions (PostgreSQL's ``xmin``) adds to ``versions``
        the versions of the rows it yields with a cursor column at ``versions_at``, and
        leaves out the rows with no cursor column past ``since`` whose version is in
        ``skip_versions``: rows recorded that way were read by the run that recorded them.
        Other sources read every row and record nothing."""
        ...

    def schema_of(self, table: str, columns: Sequence[str]) -> pa.Schema:
        """The Arrow schema ``read`` yields for these columns (also for an empty table)."""
        ...

    def max_cursor(self, table: str, cursor: Sequence[str]) -> Any | None:
        """The next watermark: the greatest value over the cursor columns, or None. A
        source may hold it back to where rows not visible yet can be stamped (PostgreSQL:
        the start of the oldest open transaction, or the present)."""
        ...

    def value_counts(self, table: str, column: str, min_count: int) -> list[Any]:
        """Values of ``column`` occurring at least ``min_count`` times."""
        ...

    def matching(self, table: str, column: str, folded: Sequence[str]) -> list[str]:
        """The distinct folded values (``sources.folding``) of ``column`` that are in
        ``folded`` (themselves folded), computed inside the database: only matches
        travel."""
        ...

    def sample(self, table: str, columns: Sequence[str], rows: int) -> pa.Table:
        """Up to ``rows`` rows for detectors (a deterministic spread, not just the first)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class OpensStreams(Protocol):
    """A source that can start its read sessions ahead of the reads (optional)."""

    def open_streams(self, count: int) -> None: ...


@runtime_checkable
class MarksAtOnce(Protocol):
    """A source that takes the watermarks of many tables at once (optional): what
    ``max_cursor`` gives for each, in fewer round trips."""

    def max_cursors(self, cursors: Mapping[str, Sequence[str]]) -> dict[str, Any | None]: ...


@runtime_checkable
class HasNotes(Protocol):
    """A source with something to tell the user about its reads (optional): a caveat the
    run could not remove, printed with the run's result and kept in the audit log."""

    def notes(self) -> list[str]: ...

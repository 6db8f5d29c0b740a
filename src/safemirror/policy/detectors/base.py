"""The detector interface: a vectorizable regex that finds candidates, a Python check that
confirms them.

``pattern`` is RE2 syntax that Python's ``re`` reads the same way (explicit ASCII classes,
no ``\\d``/``\\s``/``\\b``, no look-around, no back-references), so one string serves
DuckDB's ``regexp_matches``, ``pyarrow.compute.match_substring_regex`` and ``confirm``.
It is searched (unanchored): a value matches when it *contains* a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc

SuggestedAction = Literal["secret", "drop", "pseudonymize"]
CONFIRM_CAP = 2_000  # candidates checked in Python per column; the rest are extrapolated


@dataclass(frozen=True)
class Hit:
    """A detector's verdict on one column."""

    detector: str
    fraction: float  # of the non-null values scanned that match
    matched: int  # matching values (estimated when more than the cap were candidates)
    scanned: int  # non-null values scanned


class Detector:
    """One kind of sensitive value. Subclasses set the class attributes and may refine
    ``confirm`` (per value) and ``confirm_column`` (over the confirmed values)."""

    name: ClassVar[str]
    description: ClassVar[str]
    suggested_action: ClassVar[SuggestedAction]
    pattern: ClassVar[str]
    scan_mirror: ClassVar[bool] = True  # verify runs it over the mirror's kept text
    generic: ClassVar[bool] = False  # a catch-all: a specific detector's hit explains more

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """``pattern`` compiled for Python (candidate extraction in ``confirm``)."""
        return re.compile(self.pattern)

    def candidates(self, value: str) -> list[str]:
        """The substrings of ``value`` the pattern matches."""
        return [m.group(0) for m in self.regex.finditer(value)]

    def confirm(self, value: str) -> bool:
        """True when ``value`` (which the pattern matched) really holds such a value."""
        return bool(self.candidates(value))

    def column_gate(self, strings: pa.Array) -> bool:
        """False when the column as a whole shows the candidates are something else
        (vectorized; e.g. four-part version numbers, not IPv4 addresses)."""
        return True

    def confirm_column(self, confirmed: Sequence[str], scanned: int) -> bool:
        """A column-level gate over the confirmed values (e.g. 'varied enough')."""
        return bool(confirmed)

    def matches(self, value: str) -> bool:
        """One value, in Python: the pattern matches and ``confirm`` agrees."""
        return self.regex.search(value) is not None and self.confirm(value)

    def _confirmed(self, strings: pa.Array, cap: int) -> tuple[int, list[str], int]:
        """(candidates, confirmed values among those checked, number checked)."""
        mask = pc.match_substring_regex(strings, self.pattern)
        found = int(pc.sum(mask).as_py() or 0)
        if not found or not self.column_gate(strings):
            return 0, [], 0
        cands = pc.filter(strings, mask)
        if found > cap:
            step = found / cap
            cands = cands.take(pa.array([int(i * step) for i in range(cap)], pa.int64()))
        checked = [v for v in cands.to_pylist() if v is not None]
        return found, [v for v in checked if self.confirm(v)], len(checked)

    def count(self, values: pa.Array | pa.ChunkedArray, cap: int = 100_000) -> int:
        """How many of ``values`` match (verify passes the distinct values of a column)."""
        strings = as_strings(values)
        if strings is None or not len(strings):
            return 0
        found, confirmed, checked = self._confirmed(strings, cap)
        if not confirmed:
            return 0
        return max(1, round(found * len(confirmed) / checked))

    def detect(self, values: pa.Array | pa.ChunkedArray, cap: int = CONFIRM_CAP) -> Hit | None:
        """The fraction of non-null ``values`` that match, or None when none does."""
        strings = as_strings(values)
        if strings is None:
            return None
        strings = pc.drop_null(strings)
        scanned = len(strings)
        if not scanned:
            return None
        found, confirmed, checked = self._confirmed(strings, cap)
        if not confirmed or not self.confirm_column(confirmed, scanned):
            return None
        matched = round(found * len(confirmed) / checked)
        return Hit(self.name, matched / scanned, matched, scanned)


def as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array | None:
    """``values`` as one string array, or None when they are not text."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_large_string(values.type) or pa.types.is_string_view(values.type):
        return values.cast(pa.string())
    if pa.types.is_dictionary(values.type) and pa.types.is_string(values.type.value_type):
        return values.cast(pa.string())
    return None

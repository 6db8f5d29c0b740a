"""Whole-column value shapes ``policy suggest`` reads beyond the detectors: dates that are
birth dates, numbers that are coordinates, text that is version numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

MIN_VALUES = 20  # fewer sampled values say too little about a column's shape
_VERSION = r"^[vV]?[0-9]{1,4}(\.[0-9]{1,6}){1,3}([-+][0-9A-Za-z][0-9A-Za-z.+-]*)?$"


def _years_ago(value: date | datetime, today: date) -> float:
    day = value.date() if isinstance(value, datetime) else value
    return (today - day).days / 365.25


def looks_like_birth_dates(values: pa.ChunkedArray, today: date | None = None) -> bool:
    """Dates (or timestamps) that all lie in the past, most of them over 12 years back and
    spread over decades: when people were born, not when anything happened to a device."""
    present = pc.drop_null(values)
    if len(present) < MIN_VALUES:
        return False
    today = today or datetime.now(UTC).date()
    try:
        ages = sorted(_years_ago(v, today) for v in present.to_pylist())
    except (TypeError, ValueError, OverflowError):  # infinity, out-of-range years
        return False
    n = len(ages)
    median, low, high = ages[n // 2], ages[n // 20], ages[n - 1 - n // 20]
    return ages[0] >= 0 and median >= 12 and high - low >= 15


def _decimals(value: float | Decimal) -> int:
    text = format(value, "f") if isinstance(value, Decimal) else repr(float(value))
    if "e" in text or "E" in text:
        return 0
    return len(text.partition(".")[2].rstrip("0"))


def looks_like_coordinates(values: pa.ChunkedArray) -> bool:
    """Numbers within ±180, nearly all distinct, most with 4 to 7 decimals (GPS fixes are
    stored to about a metre; a sensor's float has more digits, a measurement fewer)."""
    present = pc.drop_null(values)
    n = len(present)
    if n < MIN_VALUES or pa.types.is_integer(present.type):
        return False
    numbers: list[float | Decimal] = [
        v for v in present.to_pylist() if isinstance(v, float | Decimal)
    ]
    if len(numbers) < n or any(abs(float(v)) > 180 for v in numbers):
        return False
    if int(pc.count_distinct(present).as_py() or 0) < 0.9 * n:
        return False
    precise = sum(4 <= _decimals(v) <= 7 for v in numbers)
    return precise >= 0.8 * n


def looks_like_versions(values: pa.ChunkedArray) -> bool:
    """Text that is all version numbers (1.2.3, v2.14.0-rc1, 4.52.6.960)."""
    present = pc.drop_null(values)
    if len(present) < MIN_VALUES or not pa.types.is_string(present.type):
        return False
    return bool(pc.all(pc.match_substring_regex(present, _VERSION)).as_py())

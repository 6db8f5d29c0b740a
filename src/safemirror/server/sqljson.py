"""SQL result values as JSON, exactly: what a JSON number cannot hold comes as a string.

JSON parsers (JavaScript's among them) read numbers as doubles, so an integer beyond
±(2**53 - 1) — most pseudonymized keys — and a decimal with more significant digits than a
double holds are sent as strings of their exact digits; a DECIMAL that a double holds
exactly is a number. NaN and the infinities are ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (what ``Number()`` reads back). Dates and times are ISO 8601, intervals
ISO 8601 durations (``P1Y2M3DT4H``; a component may carry its own sign, as PostgreSQL
writes them), blobs base64. Rows whose type holds an INTERVAL are read through Arrow,
which keeps an interval's months and days apart (Python's ``timedelta`` makes a month 30
days).
"""

from __future__ import annotations

import base64
import math
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from uuid import UUID

import duckdb
import pyarrow as pa

MAX_SAFE_INTEGER = 2**53 - 1
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
MICROS = 1_000_000
INFINITE = 2**63 - 1  # DuckDB's ±infinity: a timestamp's raw value
INFINITE_DAYS = 2**31 - 1  # and a date's


def _integer(value: int) -> int | str:
    return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else str(value)


def _decimal(value: Decimal) -> int | float | str:
    if not value.is_finite():
        return NON_FINITE.get(str(float(value)), str(value))
    if value == value.to_integral_value() and int(value.as_tuple().exponent) >= 0:
        return _integer(int(value))
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def iso_duration(months: int, days: int, micros: int) -> str:
    """An interval as ISO 8601 (``P1Y2M3DT4H5M6.5S``); each part keeps its own sign."""
    years, months = int(months / 12), months - int(months / 12) * 12
    sign = "-" if micros < 0 else ""
    hours, rest = divmod(abs(micros), 3600 * MICROS)
    minutes, rest = divmod(rest, 60 * MICROS)
    seconds, fraction = divmod(rest, MICROS)
    date_part = "".join(f"{n}{unit}" for n, unit in ((years, "Y"), (months, "M"), (days, "D")) if n)
    time_part = f"{sign}{hours}H" if hours else ""
    time_part += f"{sign}{minutes}M" if minutes else ""
    if seconds or fraction:
        digits = f"{seconds}.{fraction:06d}".rstrip("0").rstrip(".") if fraction else str(seconds)
        time_part += f"{sign}{digits}S"
    if not date_part and not time_part:
        return "PT0S"
    return "P" + date_part + ("T" + time_part if time_part else "")


def jsonable(value: Any) -> Any:
    """A JSON-safe rendering of a DuckDB value (see the module's docstring)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return _integer(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else NON_FINITE[str(value)]
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(0, value.days, value.seconds * MICROS + value.microseconds)
    if isinstance(value, pa.MonthDayNano):
        return iso_duration(value.months, value.days, int(value.nanoseconds / 1000))
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def column_types(cursor: duckdb.DuckDBPyConnection) -> list[str]:
    """Each result column's DuckDB type, as DuckDB writes it."""
    return [str(d[1]) for d in cursor.description or []]


def raw_rows(cursor: duckdb.DuckDBPyConnection, types: list[str], chunk: int) -> Iterator[Any]:
    """The result's rows as Python values, ``chunk`` at a time (Arrow when they hold an
    interval, so that its months survive)."""
    if any("INTERVAL" in t.upper() for t in types):
        with warnings.catch_warnings():  # a DB-API cursor's reader copies the rows once more:
            warnings.simplefilter("ignore", UserWarning)  # what it costs here
            reader: Any = cursor.to_arrow_reader(chunk)
        for batch in reader:
            columns = [
                [_from_arrow(v, field.type) for v in _python(column)]
                for column, field in zip(batch.columns, batch.schema, strict=True)
            ]
            yield from zip(*columns, strict=True)
        return
    while rows := cursor.fetchmany(chunk):
        yield from rows


def _python(column: pa.Array) -> list[Any]:
    """``column``'s values as Python; one past what Python's dates hold (DuckDB's
    ``infinity``, a year after 9999) as DuckDB's own conversion gives it."""
    try:
        values: list[Any] = column.to_pylist()
    except (OverflowError, ValueError):
        values = [_scalar(v) for v in column]
    return values


def _scalar(value: pa.Scalar) -> Any:
    """One value as ``to_pylist`` gives it, or where Python's dates cannot hold it, as
    DuckDB does: ±infinity as the latest or earliest datetime or date, another value
    as DuckDB writes it (``294000-01-01 10:11:12.5``)."""
    try:
        return value.as_py()
    except (OverflowError, ValueError):
        pass
    kind = value.type
    if pa.types.is_map(kind):
        return [(_scalar(e["key"]), _scalar(e["value"])) for e in value.values]
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return [_scalar(v) for v in value.values]
    if pa.types.is_struct(kind):
        return {f.name: _scalar(value[f.name]) for f in kind}
    if pa.types.is_date32(kind):
        days = value.cast(pa.int32()).as_py()
        if abs(days) == INFINITE_DAYS:
            return date.max if days > 0 else date.min
        return _iso_day(days)
    if pa.types.is_timestamp(kind):
        raw = value.cast(pa.int64()).as_py()
        if abs(raw) == INFINITE:
            return datetime.max if raw > 0 else datetime.min
        per_second = {"s": 1, "ms": 1000, "us": MICROS, "ns": 1000 * MICROS}[kind.unit]
        days, rest = divmod(raw, 86400 * per_second)
        return f"{_iso_day(days)} {_iso_time(rest * MICROS // per_second)}"
    raise ValueError(f"a {kind} value Python cannot hold")


def _iso_day(days: int) -> str:
    """The proleptic Gregorian day ``days`` after 1970-01-01, as ISO 8601 (any year)."""
    shifted = days + 719468  # from 0000-03-01 (H. Hinnant's days_from_civil, inverted)
    era, day_of_era = divmod(shifted, 146097)
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    year = year_of_era + era * 400 + (month <= 2)
    return f"{year:04d}-{month:02d}-{day:02d}"


def _iso_time(micros: int) -> str:
    seconds, fraction = divmod(micros, MICROS)
    text = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{text}.{fraction:06d}".rstrip("0") if fraction else text


def _from_arrow(value: Any, kind: pa.DataType) -> Any:
    """An Arrow value as DuckDB's own Python conversion would give it (maps as dicts)."""
    if value is None:
        return None
    if pa.types.is_map(kind):
        pairs = [(_from_arrow(k, kind.key_type), _from_arrow(v, kind.item_type)) for k, v in value]
        try:
            return dict(pairs)
        except TypeError:  # unhashable keys: as DuckDB gives such a map
            return {"key": [k for k, _ in pairs], "value": [v for _, v in pairs]}
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return [_from_arrow(v, kind.value_type) for v in value]
    if pa.types.is_struct(kind):
        return {f.name: _from_arrow(value.get(f.name), f.type) for f in kind}
    return value

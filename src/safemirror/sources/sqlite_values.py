"""How a SQLite column is read: its logical type from the declared one, the SQL that hands
the driver one storage class per column, and the conversion to the canonical Arrow type."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.sources.base import ColumnInfo
from safemirror.sources.common import arrow_type, decimal_params, quote_ident

# INTEGER is SQLite's own 64-bit integer (every integer it stores is); the narrower
# spellings other databases use keep their usual 32-bit meaning.
_BIG = {"INTEGER", "BIGINT", "INT8", "UNSIGNED BIG INT", "LONG"}
_INT = {"INT", "SMALLINT", "TINYINT", "MEDIUMINT", "INT2", "INT4"}
_DOUBLE = {"DOUBLE", "DOUBLE PRECISION", "REAL", "FLOAT", "FLOAT4", "FLOAT8"}
_BLOB = {"BLOB", "BYTEA", "BINARY", "VARBINARY"}
# (SQL that makes the driver see one storage class, value of the typed marker row)
_NUMBER_OR_TEXT = (  # a number no reading fits (milliseconds, say) stays as it is: refused
    "CASE WHEN typeof({{0}}) IN ('integer', 'real') "
    "THEN coalesce({fn}({{0}}, {mods}), CAST({{0}} AS TEXT)) ELSE CAST({{0}} AS TEXT) END"
)
# A number as REAL; anything else as it is stored, so that the driver sees the column's
# classes mixed and the read is refused (CAST would turn 'n/a' into 0.0 without a word).
_NUMBER = "CASE WHEN typeof({0}) IN ('integer', 'real') THEN CAST({0} AS REAL) ELSE {0} END"
_STORAGE = {
    "bigint": ("{}", "0"),
    "integer": ("{}", "0"),
    "boolean": ("{}", "0"),
    "double": (_NUMBER, "0.0"),
    "numeric": (_NUMBER, "0.0"),
    "text": ("CAST({} AS TEXT)", "''"),
    # SQLite keeps a time as ISO text, or as a number: a Julian day (REAL) or Unix time
    # (INTEGER); 'auto' tells them apart by magnitude, as SQLite's own functions do.
    "timestamp": (_NUMBER_OR_TEXT.format(fn="datetime", mods="'auto', 'subsec'"), "''"),
    "date": (_NUMBER_OR_TEXT.format(fn="date", mods="'auto'"), "''"),
    "blob": ("CAST({} AS BLOB)", "X''"),
}
# A numeric column's integers, exactly: as REAL, one beyond 2**53 would be rounded.
_INTEGER_ONLY = "CASE WHEN typeof({0}) = 'integer' THEN {0} END"
_ZONE = r"(Z|z|[+-]\d\d(:?\d\d)?)$"
_FRACTION = r"(:\d\d\.\d{6})\d+"  # a second's digits past the microsecond
_SPACED_ZONE = r"\s+(Z|z|[+-]\d\d(:?\d\d)?)$"  # '10:00:00 +05:45'
# Columns the driver hands over as numbers: as text only when some stored value is not one
# (the driver then formats every number of the batch as text, to 7 significant digits).
_NUMERIC = {"bigint", "integer", "double", "numeric"}


def logical_type(declared: str, rowid_alias: bool) -> str:
    """The policy type of a column declared ``declared`` (SQLite's affinity rules)."""
    base = declared.upper().split("(")[0].strip()
    if rowid_alias or base in _BIG:
        return "bigint"
    if base in _INT:
        return "integer"
    if base in ("BOOLEAN", "BOOL"):
        return "boolean"
    if base.startswith("TIMESTAMP") or base == "DATETIME":
        return "timestamp"
    if base == "DATE":
        return "date"
    if base in _DOUBLE:
        return "double"
    if base in ("NUMERIC", "DECIMAL"):
        return "numeric" if decimal_params(declared) else "double"
    if base in _BLOB:
        return "blob"
    if "INT" in base and "INTERVAL" not in base and "POINT" not in base:
        return "bigint"  # SQLite's own affinity rule: any other name with INT is an integer
    return "text"


def rounds_numbers(declared: str) -> bool:
    """Whether a column declared ``declared`` keeps integers exactly (NUMERIC affinity)
    that a read as a double rounds: a ``NUMERIC`` or ``DECIMAL`` without a precision of
    at most 38 digits."""
    base = declared.upper().split("(")[0].strip()
    return base in ("NUMERIC", "DECIMAL") and decimal_params(declared) is None


def parse_timestamps(values: pa.Array) -> pa.Array:
    """ISO-8601 text -> ``timestamp[us, UTC]``; text without an offset is taken as UTC.
    What SQLite's own date functions read, Arrow reads too: more than six digits of a
    second (nanoseconds, as Java's ``Instant`` and Go write them: cut to microseconds),
    spaces before the offset, a lower-case ``z`` (rewritten only when a value needs it)."""
    text = pc.utf8_trim_whitespace(values)
    try:
        return _parsed(text)
    except pa.ArrowInvalid:
        text = pc.replace_substring_regex(text, _FRACTION, r"\1")
        text = pc.replace_substring_regex(text, _SPACED_ZONE, r"\1")
        return _parsed(pc.replace_substring_regex(text, "z$", "Z"))


def _parsed(text: pa.Array) -> pa.Array:
    text = pc.if_else(
        pc.equal(pc.utf8_length(text), 10), pc.binary_join_element_wise(text, " 00:00:00", ""), text
    )
    text = pc.if_else(
        pc.match_substring_regex(text, _ZONE), text, pc.binary_join_element_wise(text, "Z", "")
    )
    return pc.cast(text, pa.timestamp("us", tz="UTC"))


def select_list(cols: Sequence[ColumnInfo]) -> tuple[str, str]:
    """The typed marker row's values and the select list for ``cols``: one column each
    (``c0``, ``c1``, ...), then one more per numeric column (``i0``, ...) holding its
    integers, which ``canonical`` takes exactly."""
    marker = [f"{_STORAGE[c.type][1]} AS c{i}" for i, c in enumerate(cols)]
    select = [
        f"{_STORAGE[c.type][0].format(quote_ident(c.name))} AS c{i}" for i, c in enumerate(cols)
    ]
    for i, col in enumerate(cols):
        if col.type == "numeric":
            marker.append(f"0 AS i{i}")
            select.append(f"{_INTEGER_ONLY.format(quote_ident(col.name))} AS i{i}")
    return ", ".join(marker), ", ".join(select)


def stored_as_text(values: pa.Array, col: ColumnInfo) -> bool:
    """Whether the driver handed over as text a column it reads as numbers: some stored
    value is not a number (it then formats every number of the batch as text)."""
    return col.type in _NUMERIC and pa.types.is_string(values.type)


def canonical(values: pa.Array, col: ColumnInfo, integers: pa.Array | None = None) -> pa.Array:
    """One column from the driver's storage type to the canonical Arrow type; for a numeric
    column, ``integers`` (from ``select_list``) holds its integers exactly."""
    if col.type == "timestamp":
        return parse_timestamps(values)
    if col.type == "date":
        return pc.cast(pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(values), 0, 10), pa.date32())
    target = arrow_type(col)
    if col.type != "numeric":
        return pc.cast(values, target)
    if integers is None or integers.null_count == len(integers):
        return pc.cast(pc.round(values, target.scale), target)
    reals = pc.if_else(pc.is_null(integers), values, pa.scalar(None, values.type))
    exact = pc.cast(pc.cast(integers, pa.decimal128(38, 0)), target)
    return pc.if_else(pc.is_valid(integers), exact, pc.cast(pc.round(reals, target.scale), target))

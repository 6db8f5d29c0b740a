"""Vectorized string building: fixed-width byte matrices turned into Arrow string arrays.

Every helper works on whole columns — a (rows × width) ``uint8`` matrix written column by
column with NumPy, then wrapped as an Arrow ``StringArray`` without copying per row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

U8 = npt.NDArray[np.uint8]
Bool = npt.NDArray[np.bool_]

DIGITS = b"0123456789"
HEX_LOWER = b"0123456789abcdef"
HEX_UPPER = b"0123456789ABCDEF"
ALNUM = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ALNUM_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
BCRYPT64 = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

_B64 = np.frombuffer(BASE64URL, dtype=np.uint8)


def validity(valid: Bool | None) -> pa.Buffer | None:
    """An Arrow validity bitmap for ``valid`` (None when every value is present)."""
    if valid is None or bool(valid.all()):
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def from_matrix(chars: U8, valid: Bool | None = None) -> pa.StringArray:
    """One string per row of a C-contiguous (rows × width) byte matrix."""
    chars = np.ascontiguousarray(chars, dtype=np.uint8)
    rows, width = chars.shape
    offsets = np.arange(0, rows * width + 1, width, dtype=np.int32)
    return pa.StringArray.from_buffers(
        rows, pa.py_buffer(offsets), pa.py_buffer(chars.reshape(-1)), validity(valid)
    )


def random_chars(rng: np.random.Generator, rows: int, width: int, alphabet: bytes) -> U8:
    """A (rows × width) matrix of characters drawn uniformly from ``alphabet``."""
    table = np.frombuffer(alphabet, dtype=np.uint8)
    return table[rng.integers(0, len(table), size=(rows, width), dtype=np.int64)]


def random_text(rng: np.random.Generator, rows: int, width: int, alphabet: bytes) -> pa.StringArray:
    """Random fixed-width strings over ``alphabet``."""
    return from_matrix(random_chars(rng, rows, width, alphabet))


def base64url(data: U8) -> U8:
    """Unpadded base64url of each row of a (rows × 3k) byte matrix → (rows × 4k) characters."""
    rows, width = data.shape
    if width % 3:
        raise ValueError("base64url rows must be a multiple of 3 bytes")
    triples = data.reshape(rows, width // 3, 3).astype(np.uint32)
    word = (triples[..., 0] << 16) | (triples[..., 1] << 8) | triples[..., 2]
    out = np.empty((rows, width // 3, 4), dtype=np.uint8)
    for i, shift in enumerate((18, 12, 6, 0)):
        out[..., i] = _B64[(word >> shift) & 0x3F]
    return out.reshape(rows, width // 3 * 4)


def be_bytes(values: npt.NDArray[np.uint64]) -> U8:
    """Each uint64 as 8 big-endian bytes: a (rows × 8) matrix."""
    return np.ascontiguousarray(values.astype(">u8")).view(np.uint8).reshape(len(values), 8)


def hex_chars(values: npt.NDArray[np.uint64], width: int, alphabet: bytes = HEX_LOWER) -> U8:
    """The low ``width`` hex digits of each value, most significant first."""
    table = np.frombuffer(alphabet, dtype=np.uint8)
    out = np.empty((len(values), width), dtype=np.uint8)
    for i in range(width):
        shift = np.uint64(4 * (width - 1 - i))
        out[:, i] = table[((values >> shift) & np.uint64(0xF)).astype(np.intp)]
    return out


def put_digits(out: U8, col: int, values: npt.NDArray[np.int64], width: int) -> None:
    """Write ``values`` zero-padded to ``width`` digits at column ``col`` of ``out``."""
    v = values.copy()
    for i in range(width - 1, -1, -1):
        out[:, col + i] = 48 + (v % 10)
        v //= 10


@functools.cache
def _clock_table() -> U8:
    """'HH:MM:SS' for every second of a day: an (86400 × 8) byte matrix."""
    sod = np.arange(86_400, dtype=np.int64)
    out = np.empty((86_400, 8), dtype=np.uint8)
    out[:, [2, 5]] = ord(":")
    for col, vals in ((0, sod // 3600), (3, sod // 60 % 60), (6, sod % 60)):
        put_digits(out, col, vals, 2)
    return out


@functools.cache
def _thousands_table() -> U8:
    """'000' … '999' as a (1000 × 3) byte matrix."""
    out = np.empty((1000, 3), dtype=np.uint8)
    put_digits(out, 0, np.arange(1000, dtype=np.int64), 3)
    return out


def _dates(days: npt.NDArray[np.int64]) -> U8:
    """'YYYY-MM-DD' for days since the epoch (Howard Hinnant's civil_from_days)."""
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    out = np.empty((len(days), 10), dtype=np.uint8)
    out[:, [4, 7]] = ord("-")
    for col, vals, width in ((0, year, 4), (5, month, 2), (8, day, 2)):
        put_digits(out, col, vals, width)
    return out


_TIMESTAMP = np.dtype(
    {
        "names": ["date", "space", "clock", "dot", "milli", "micro"],
        "formats": ["S10", "S1", "S8", "S1", "S3", "S3"],
        "offsets": [0, 10, 11, 19, 20, 23],
        "itemsize": 26,
    }
)


def format_timestamps(micros: npt.NDArray[np.int64], valid: Bool | None = None) -> pa.StringArray:
    """UTC microseconds → ``'YYYY-MM-DD HH:MM:SS.ffffff'`` (always six fractional digits)."""
    us = np.where(valid, micros, 0) if valid is not None else micros
    days = us // 86_400_000_000  # floor division: faster than np.divmod
    rest = us - days * 86_400_000_000
    secs = rest // 1_000_000
    frac = rest - secs * 1_000_000
    milli = frac // 1000
    out = np.empty(len(us), dtype=_TIMESTAMP)
    first = int(days.min()) if len(days) else 0
    span = int(days.max()) - first + 1 if len(days) else 0
    if span <= 1_000_000:  # a table of every date in range, then a lookup per row
        dates = _dates(np.arange(first, first + span, dtype=np.int64)).view("S10").ravel()
        out["date"] = dates[days - first]
    else:
        out["date"] = _dates(days).view("S10").ravel()
    out["space"] = b" "
    out["clock"] = _clock_table().view("S8").ravel()[secs]
    out["dot"] = b"."
    thousands = _thousands_table().view("S3").ravel()
    out["milli"] = thousands[milli]
    out["micro"] = thousands[frac - milli * 1000]
    return from_matrix(out.view(np.uint8).reshape(len(us), 26), valid)


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literal strings."""
    return pc.binary_join_element_wise(*parts, "")


def ints(values: npt.ArrayLike) -> pa.Array:
    """Integers as decimal strings."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def take(pool: Sequence[str] | pa.Array, index: npt.ArrayLike) -> pa.Array:
    """``pool[index]`` as an Arrow string array."""
    arr = pool if isinstance(pool, pa.Array) else pa.array(list(pool), pa.string())
    return arr.take(pa.array(np.asarray(index, dtype=np.int64)))


def with_nulls(values: pa.Array, valid: Bool) -> pa.Array:
    """``values`` with NULL where ``valid`` is False."""
    if bool(valid.all()):
        return values
    return pc.if_else(pa.array(valid), values, pa.scalar(None, values.type))


def ipv4(octets: npt.NDArray[np.int64]) -> pa.Array:
    """Dotted-quad strings from a (rows × 4) integer matrix."""
    return pc.binary_join_element_wise(*(ints(octets[:, i]) for i in range(4)), ".")

"""Helpers shared by the source adapters: URL redaction, identifier checks, canonical
Arrow types, cursor values and batch sizing."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.errors import SourceError, UsageError
from safemirror.sources.base import ColumnInfo, TableInfo
from safemirror.sources.folding import fold_text

_SECRET_PARAMS = {"password", "pass", "passwd", "sslpassword", "secret", "token"}


def with_query(
    url: str,
    params: Iterable[tuple[str, str]] | Mapping[str, str],
    *,
    netloc: str | None = None,
) -> str:
    """``url`` with its query string replaced by ``params`` (and its authority by
    ``netloc``, if given), spelled as libpq reads a URI: a space as ``%20`` (libpq takes
    ``+`` as itself), and ``//`` kept before an empty host
    (``postgresql:///db?host=/run/postgresql``, a Unix socket)."""
    parts = urlsplit(url)
    items = params.items() if isinstance(params, Mapping) else params
    query = urlencode(list(items), quote_via=quote, safe="/:")
    return (
        f"{parts.scheme}://{parts.netloc if netloc is None else netloc}{parts.path}"
        + (f"?{query}" if query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def redact_url(url: str) -> str:
    """``url`` with any password (in the authority or the query string) removed."""
    try:
        parts = urlsplit(url)
        params = parse_qsl(parts.query, keep_blank_values=True)
        if parts.password is None and not any(k.lower() in _SECRET_PARAMS for k, _ in params):
            return url
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}@{hostport}" if user else hostport
        kept = [(k, v) for k, v in params if k.lower() not in _SECRET_PARAMS]
        return with_query(url, kept, netloc=netloc)
    except ValueError:
        return "<unparseable URL>"


def refuse_fragment(url: str) -> None:
    """Refuse a URL (a source, a demo target) with a ``#fragment``, which nothing reads: it
    is most likely part of a password or file name holding an unescaped '#' (never echoed:
    it may be)."""
    try:
        fragment = urlsplit(url).fragment
    except ValueError:
        return  # the source's own parsing reports it
    if fragment or url.endswith("#"):
        raise UsageError(
            "the URL has a '#fragment', which safemirror does not read",
            hint="remove it; a '#' in a password or file name is written %23",
        )


def refuse_parameters(url: str, supported: Collection[str], kind: str) -> None:
    """Refuse a ``kind`` source URL whose query string sets a parameter not in
    ``supported``, naming the parameters (never their values): one ignored would leave
    the user believing it took effect."""
    query = urlsplit(url).query
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    unknown = sorted({name for name in names if name not in supported})
    if not unknown and (names or not query.strip("&")):
        return
    takes = (
        f"it takes only {', '.join(sorted(supported))}"
        if supported
        else "it takes no query parameters"
    )
    shown = ", ".join(repr(n) if n else "a parameter with no name" for n in unknown)
    raise UsageError(
        f"the {kind} URL sets {shown or 'a query'}, which safemirror does not support: {takes}",
        hint="remove them; a '?' in a file name is written %3F",
    )


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///relative.db`` or ``sqlite:////abs/path.db`` URL names, its
    %-escapes decoded (not yet resolved: a relative path is the caller's to place). One
    parsing for every SQLite URL, source or demo target: a URL with a fragment or a query
    string is refused (a '?' or '#' in a file name is written %3F or %23)."""
    refuse_fragment(url)
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/"):
        raise SourceError(
            f"not a SQLite URL: {redact_url(url)!r}",
            hint="use sqlite:///relative/path.db or sqlite:////abs/path.db",
        )
    refuse_parameters(url, (), "SQLite")  # it is always opened read-only (mode=ro)
    return Path(unquote(parts.path[1:]))


def sqlite_url(path: Path) -> str:
    """The SQLite URL that ``sqlite_path`` reads back as ``path``."""
    return "sqlite:///" + quote(str(path))


def url_secrets(url: str) -> list[str]:
    """The secret strings inside ``url`` (to scrub from driver error messages)."""
    try:
        parts = urlsplit(url)
        found = [parts.password] if parts.password else []
        found += [v for k, v in parse_qsl(parts.query) if k.lower() in _SECRET_PARAMS and v]
    except ValueError:
        return []
    return [s for s in found if s]


def scrub(message: str, secrets: Iterable[str]) -> str:
    """``message`` with every secret replaced by ``***``."""
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def cast_batch(batch: pa.RecordBatch, schema: pa.Schema, where: str) -> pa.RecordBatch:
    """``batch`` cast to ``schema``; a value that does not fit is an error naming the
    column of ``where`` (never the value: it may be sensitive)."""
    try:
        return batch.cast(schema)
    except pa.ArrowInvalid:
        for target, column in zip(schema, batch.columns, strict=True):
            try:
                column.cast(target.type)
            except pa.ArrowInvalid:
                raise SourceError(
                    f"{where}, column {target.name!r}: a value does not fit the mirror's "
                    f"type {target.type} (a bounded numeric holding NaN or Infinity, say)",
                    hint="clean those values at the source, or drop the column in the policy",
                ) from None
        raise


def repaired_text(values: pa.Array) -> pa.Array | None:
    """``values`` (a string array) with each value that is not valid UTF-8 read with
    U+FFFD in place of its bad bytes; None when every value is valid. SQLite, and
    PostgreSQL in SQL_ASCII, keep whatever bytes an application wrote; Arrow and DuckDB
    take UTF-8 only."""
    try:
        values.validate(full=True)
        return None
    except pa.ArrowInvalid:
        raw = values.view(
            pa.large_binary() if pa.types.is_large_string(values.type) else pa.binary()
        )
        return pa.array(
            [None if v is None else v.decode("utf-8", "replace") for v in raw.to_pylist()],
            values.type,
        )


def repair_text(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, list[str]]:
    """``batch`` with its string columns ``repaired_text``, and the names of those that
    held a value that is not valid UTF-8."""
    arrays, repaired = list(batch.columns), []
    for i, values in enumerate(arrays):
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            fixed = repaired_text(values)
            if fixed is not None:
                arrays[i] = fixed
                repaired.append(batch.schema.field(i).name)
    if not repaired:
        return batch, []
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema), repaired


def repaired_note(columns: Collection[str]) -> list[str]:
    """The note for ``columns`` (``table.column``) whose text ``repair_text`` repaired."""
    if not columns:
        return []
    return [
        f"{', '.join(sorted(columns))}: some text is not valid UTF-8; it was read with "
        "U+FFFD in place of the bytes that are not (the mirror, its pseudonyms and verify "
        "all see it so); correct those values in the source to mirror them exactly"
    ]


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (PostgreSQL and SQLite agree on this form)."""
    if "\x00" in name:
        raise SourceError(f"identifier {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def table_info(tables: dict[str, TableInfo], table: str, where: str) -> TableInfo:
    """The live table named ``table``, or a SourceError naming it."""
    info = tables.get(table)
    if info is None:
        raise SourceError(
            f"table {table!r} does not exist in {where}",
            hint="check the table name in the policy; 'safemirror policy check' "
            "lists the live tables",
        )
    return info


def columns_of(info: TableInfo, columns: Sequence[str]) -> list[ColumnInfo]:
    """The live columns named ``columns`` (in that order), or a SourceError naming one."""
    found = []
    for name in columns:
        col = info.column(name)
        if col is None:
            raise SourceError(
                f"column {name!r} does not exist in table {info.name!r}",
                hint="check the column name in the policy; 'safemirror policy "
                "check' lists vanished columns",
            )
        found.append(col)
    if len(set(columns)) != len(columns):
        raise SourceError(f"a column is requested twice from table {info.name!r}: {list(columns)}")
    return found


_DECIMAL = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")


def decimal_params(source_type: str) -> tuple[int, int] | None:
    """``(precision, scale)`` of a ``numeric(p,s)`` spelling that fits decimal128, else None."""
    match = _DECIMAL.search(source_type)
    if not match:
        return None
    precision, scale = int(match.group(1)), int(match.group(2) or 0)
    return (precision, scale) if 0 < precision <= 38 and scale <= precision else None


def arrow_type(col: ColumnInfo) -> pa.DataType:
    """The canonical Arrow type of a column (see ``sources.base``)."""
    if col.type == "numeric":
        params = decimal_params(col.source_type)
        if params is None:  # adapters only report 'numeric' when the precision fits
            raise SourceError(
                f"column {col.name!r}: numeric type {col.source_type!r} has no "
                "precision that fits 38 digits"
            )
        return pa.decimal128(*params)
    return _ARROW[col.type]


_ARROW: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "text": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "blob": pa.binary(),
}


def arrow_schema(cols: Sequence[ColumnInfo]) -> pa.Schema:
    """The canonical schema of the batches ``read`` yields for ``cols`` (all fields nullable,
    so every source gives the same schema; ``ColumnInfo.nullable`` carries the constraint)."""
    return pa.schema([pa.field(c.name, arrow_type(c)) for c in cols])


def cursor_type(cols: Sequence[ColumnInfo], table: str) -> str:
    """The one logical type all cursor columns share."""
    kinds = {c.type for c in cols}
    if len(kinds) != 1:
        raise SourceError(
            f"cursor columns of table {table!r} mix types "
            f"({', '.join(f'{c.name}: {c.type}' for c in cols)})",
            hint="use cursor columns of one type, e.g. only timestamps",
        )
    kind = kinds.pop()
    if kind in ("boolean", "blob"):
        raise SourceError(
            f"cursor column {cols[0].name!r} of table {table!r} is {kind}",
            hint="use a timestamp or an increasing number as cursor",
        )
    return kind


def coerce_since(value: Any, kind: str) -> Any:
    """``value`` as the Python value of logical type ``kind`` (timestamps: aware, UTC)."""
    try:
        if kind == "timestamp":
            if isinstance(value, str):
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            elif isinstance(value, date) and not isinstance(value, datetime):
                value = datetime.combine(value, time())
            if isinstance(value, datetime):
                aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
                return aware.astimezone(UTC)
        elif kind == "date":
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            if isinstance(value, str):
                return date.fromisoformat(value.strip()[:10])
        elif kind in ("bigint", "integer"):
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value)
        elif kind in ("double", "numeric"):
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                return Decimal(str(value))
            if isinstance(value, str):
                return Decimal(value.strip())
        elif kind == "text" and isinstance(value, str):
            return value
    except (ValueError, ArithmeticError):
        pass
    raise SourceError(
        f"the cursor value {value!r} does not fit a {kind} cursor",
        hint="pass the watermark that max_cursor returned, or run with --full",
    )


def since_text(value: Any) -> str:
    """A coerced cursor value as unambiguous text (timestamps in UTC with offset)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def rechunk(batches: Iterable[pa.RecordBatch], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of at most ``batch_rows`` rows (zero-copy slices); empty ones dropped."""
    if batch_rows < 1:
        raise SourceError(f"batch_rows must be positive, not {batch_rows}")
    for batch in batches:
        for start in range(0, batch.num_rows, batch_rows):
            yield batch.slice(start, batch_rows)


def estimated_row_bytes(cols: Sequence[ColumnInfo]) -> int:
    """A rough Arrow row width, to turn a row budget into a driver byte hint."""
    wide = {"text": 32, "blob": 64, "numeric": 16}
    return sum(wide.get(c.type, 8) for c in cols) or 8


def folded_bound(folded: Iterable[str]) -> int:
    """The most bytes a value can take whose fold (``folding``) is one of ``folded``. The
    fold maps a character to one or more (but for 'i' and a combining dot, 3 bytes in
    UTF-8, to 'i'), and no encoding spends more than 4 bytes on one, so a longer value is
    none of them: it need not be folded (nor, in PostgreSQL, even decompressed: its
    length is in its header)."""
    return 4 * max(map(len, folded), default=0)


def match_folded(batches: Iterable[pa.RecordBatch], folded: Sequence[str]) -> list[str]:
    """The distinct folded values (``folding``) of the first column of ``batches`` that
    are in ``folded`` (vectorized: ``fold_text`` and a hash set, one batch at a time;
    values longer than ``folded_bound`` are left out before they are folded)."""
    wanted = pa.array(sorted(set(folded)), pa.string())
    found: set[str] = set()
    if not len(wanted):
        return []
    bound = folded_bound(folded)
    for batch in batches:
        values = batch.column(0)
        if not pa.types.is_string(values.type):
            values = values.cast(pa.string())
        values = pc.filter(values, pc.less_equal(pc.binary_length(values), bound))
        lowered = fold_text(values)
        hits = pc.filter(lowered, pc.is_in(lowered, value_set=wanted))
        found.update(pc.unique(hits).to_pylist())
    return sorted(found)


def cursor_mark(greatest: pa.Scalar) -> Any:
    """A cursor's greatest value (an Arrow scalar) as the Python value a watermark holds.
    A date or timestamp Python cannot hold (before year 1: year 0 or BC; after 9999) is
    taken as the first or last value it can: before year 1 as None, no watermark, so that
    the next run reads the table from its start (the first value Python holds would leave
    out the rows stamped earlier); after 9999 as the last one, which ``held_back`` brings
    back to the present."""
    try:
        return greatest.as_py()
    except (OverflowError, ValueError):
        if not (pa.types.is_timestamp(greatest.type) or pa.types.is_date(greatest.type)):
            raise
    storage = pa.int32() if pa.types.is_date32(greatest.type) else pa.int64()
    if greatest.cast(storage).as_py() < 0:
        return None
    if pa.types.is_date(greatest.type):
        return date.max
    return datetime.max.replace(tzinfo=UTC if greatest.type.tz else None)


def held_back(mark: Any, open_since: datetime | None) -> Any:
    """The watermark ``mark``, or ``open_since`` (as a date for a date cursor) when that
    is earlier: the start of a transaction still open, whose rows, stamped by ``now()``
    with that start, become visible only once it commits, after this run has read (a
    watermark past them would leave them out of every later run); or the present, when a
    row is stamped in the future (a watermark there would leave out every row written
    until then). The next run reads from there; rows read already are read again, and
    the upsert leaves them as they were. Counters and text cannot be bounded so."""
    if mark is None or open_since is None:
        return mark
    since = open_since.astimezone(UTC)
    if isinstance(mark, datetime):
        return min(mark, since)
    if isinstance(mark, date):
        return min(mark, since.date())
    return mark

"""Classify one column for ``policy suggest``: a first-match rule list, erring toward drop.

Each column gets one action and a ``# why`` comment. The rules, first match wins:

1. primary keys, foreign keys (declared, or implied by a column named as another table's
   key: ``joins.with_implied_keys``) and id-like names (``id``, ``*_id``) -> ``pseudonymize``;
   a foreign key shares the domain of the column it references, followed to the end of
   the chain (``users.id``, ``devices.user_id`` -> user; a composite key column by column);
   of a type pseudonymize does not take (it takes integers, decimals, text and binary), a key
   column is kept (it must reach the mirror) and any other identifier dropped;
2. credential names (password, token, secret, hash, api_key, …) -> ``secret``;
3. detector hits on sampled values -> the detector's action (the strictest hit wins);
4. personal names (email, phone, ip, mac, ssid, nickname, name, address, photo, url, birth
   dates, locations, notes) -> ``drop``; body measures (weight, bmi, …) -> ``generalize``
   by bucket, coordinates (by name or by their values: ``policy.shapes``) -> ``drop``;
   gender -> ``generalize: {min_count}``; past dates decades apart (birth dates) ->
   ``generalize: {truncate: year}``;
5. by type: booleans and plain numbers ``keep``, timestamps ``generalize: {truncate: day}``,
   low-cardinality text ``keep``, version numbers and common-but-long-tailed text
   ``generalize: {min_count}``;
   anything else — varied text, blobs, unsampled text, numbers that look like identifiers —
   ``drop``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.policy.detectors import Hit, detect_column, get_detector
from safemirror.policy.domains import Domains, domain_name
from safemirror.policy.joins import ForeignKeys
from safemirror.policy.model import PSEUDONYMIZED_TYPES
from safemirror.policy.shapes import (
    looks_like_birth_dates,
    looks_like_coordinates,
    looks_like_versions,
)
from safemirror.sources.base import ColumnInfo, TableInfo

MIN_FRACTION = 0.02  # a detector hit on at least this share of sampled values counts
CATEGORY_MAX = 50  # at most this many distinct sampled values: a category, kept
COMMON_MIN_COUNT = 10  # long-tailed categories keep only values seen this often

# fmt: off
_SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "token", "tokens", "secret", "secrets", "hash", "hashed",
    "salt", "apikey", "credential", "credentials", "otp", "mfa", "totp", "private",
})
_SECRET_PHRASES = ("api_key", "access_key", "private_key", "session_key", "auth_key")
_PERSONAL_WORDS = frozenset({
    "email", "mail", "phone", "mobile", "tel", "telephone", "fax", "ip", "ipaddr", "mac",
    "ssid", "bssid", "nickname", "nick", "name", "username", "firstname", "lastname",
    "surname", "address", "street", "zip", "zipcode", "postal", "postcode", "photo",
    "avatar", "picture", "image", "url", "uri", "link", "dob", "birthday", "birthdate", "ssn",
    "passport", "license", "iban", "card", "note", "notes", "comment", "comments", "message",
    "bio", "description", "lat", "lon", "lng", "latitude", "longitude", "altitude", "gps",
    "geo", "location", "coordinates", "serial", "imei", "given", "forename", "fullname",
    "holder", "cardholder", "born", "nationality", "ethnicity", "religion",
})
_GENDER_WORDS = frozenset({"gender", "sex"})
_LOCATION_WORDS = frozenset({
    "lat", "lon", "lng", "latitude", "longitude", "altitude", "gps", "geo", "location",
    "coordinates",
})
_BODY_WORDS = frozenset({
    "weight", "height", "bmi", "fat", "body", "heart", "pulse", "blood", "glucose", "bp",
    "sleep", "steps", "calories", "age", "birth", "waist", "muscle", "bone",
})
# fmt: on
_SEVERITY = {"secret": 0, "drop": 1, "pseudonymize": 2}
ROUNDED = (  # what a numeric column that reaches the mirror as a double is
    "a numeric without a precision of at most 38 digits, read as a double (rounded beyond "
    "15-17 significant digits)"
)


@dataclass(frozen=True)
class Choice:
    """One column's suggested classification."""

    action: str
    why: str
    params: dict[str, Any] = field(default_factory=dict)


def snake_name(name: str) -> str:
    """``name`` in lower snake case, to match conventional column names however they are
    spelled: ``updatedAt``, ``Updated At`` and ``UPDATED_AT`` all give ``updated_at``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return "_".join(w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w)


def _words(name: str) -> set[str]:
    return set(snake_name(name).split("_")) - {""}


@dataclass(frozen=True)
class Reference:
    """What a foreign-key column references, and the domain its values share with it."""

    table: str
    column: str
    domain: str
    implied: bool = False  # by the column's name (``joins.implied_keys``), not declared


def reference(
    table: str,
    column: str,
    domains: Domains,
    foreign_keys: ForeignKeys,
) -> Reference | None:
    """What ``table.column`` references, if anything, with the domain of the column at the
    end of the chain of foreign keys (``readings.home_no`` -> ``homes.home_no``, part of
    a composite key, shares its domain; ``profiles.user_id`` -> ``users.id``: user)."""
    target = foreign_keys.get(table, {}).get(column)
    if target is None:
        return None
    path, end = [(table, column)], target
    while end not in path and end[1] in foreign_keys.get(end[0], {}):
        path.append(end)
        end = foreign_keys[end[0]][end[1]]
    if end in path:  # keys in a loop: its first column by name stands for all of them
        end = min(path[path.index(end) :])
    return Reference(target[0], target[1], domains.of_id(end[1], end[0]))


def _nice(width: float) -> float:
    """A round bucket width near ``width``: 1, 2 or 5 times a power of ten."""
    if width <= 0 or not math.isfinite(width):
        return 10.0
    power = 10 ** math.floor(math.log10(width))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= width))


def _bucket(values: pa.ChunkedArray, words: set[str]) -> float:
    if "year" in words or "age" in words:
        return 10.0
    present = pc.drop_null(values)
    if not len(present):
        return 10.0
    low, high = pc.quantile(present.cast(pa.float64()), q=[0.05, 0.95]).to_pylist()
    return _nice((high - low) / 8)


def _percent(hit: Hit) -> str:
    return f"{max(1, round(hit.fraction * 100))}%"


def _detected(values: pa.ChunkedArray) -> Choice | None:
    hits = [h for h in detect_column(values) if h.fraction >= MIN_FRACTION]
    if not hits:
        return None
    hit = min(
        hits,
        key=lambda h: (
            _SEVERITY[get_detector(h.detector).suggested_action],
            get_detector(h.detector).generic,
            -h.fraction,
        ),
    )
    detector = get_detector(hit.detector)
    label = detector.description.split(" (")[0]
    why = f"{_percent(hit)} of sampled values look like {label}"
    if detector.suggested_action == "pseudonymize":
        return Choice("pseudonymize", why, {"domain": domain_name(hit.detector)})
    return Choice(detector.suggested_action, why)


_ISO_TIME = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"


def looks_like_times(values: pa.ChunkedArray) -> bool:
    """Whether ``values`` (text) hold ISO dates or timestamps, every sampled one of them."""
    present = pc.drop_null(values)
    if not len(present) or not (
        pa.types.is_string(present.type) or pa.types.is_large_string(present.type)
    ):
        return False
    return bool(pc.all(pc.match_substring_regex(present, _ISO_TIME)).as_py())


def _by_type(col: ColumnInfo, values: pa.ChunkedArray, words: set[str]) -> Choice:
    present = pc.drop_null(values)
    n = len(present)
    if col.type == "boolean":
        return Choice("keep", "a boolean flag")
    if col.type == "timestamp":
        return Choice("generalize", "a timestamp, coarsened to the day", {"truncate": "day"})
    if col.type == "date":
        return Choice("generalize", "a date, kept at day grain", {"truncate": "day"})
    if col.type == "blob":
        return Choice("drop", "binary data cannot be reviewed")
    if col.type in ("bigint", "integer", "double", "numeric"):
        if col.type in ("bigint", "integer") and n >= 50:
            distinct = pc.count_distinct(present).as_py()
            largest = pc.max(pc.abs(present)).as_py() or 0
            if distinct >= 0.9 * n and largest >= 1_000_000:
                return Choice(
                    "drop",
                    "nearly every value distinct with 7+ digits: may be an "
                    "identifier (phone, account number)",
                )
        return Choice("keep", f"a numeric measurement{f'; {ROUNDED}' if col.rounded else ''}")
    if not n:
        return Choice("drop", "no sampled values to judge; uncertain")
    if looks_like_times(values):
        return Choice(
            "drop",
            "dates or timestamps stored as text, which generalize cannot coarsen: declare "
            "the column TIMESTAMP or DATE to mirror it by the day",
        )
    distinct = pc.count_distinct(present).as_py()
    longest = pc.max(pc.utf8_length(present.cast(pa.string()))).as_py() or 0
    if distinct <= CATEGORY_MAX and distinct <= 0.2 * n and longest <= 64:
        values_in = "value" if distinct == 1 else "values"
        return Choice("keep", f"{distinct} distinct {values_in} in {n} sampled: a category")
    if looks_like_versions(values):
        return Choice(
            "generalize",
            f"version numbers: only those seen {COMMON_MIN_COUNT}+ times are kept",
            {"min_count": COMMON_MIN_COUNT},
        )
    if distinct <= 10 * CATEGORY_MAX and distinct <= 0.1 * n and longest <= 64:
        return Choice(
            "generalize",
            f"{distinct} distinct values in {n} sampled, some rare: "
            f"only values seen {COMMON_MIN_COUNT}+ times are kept",
            {"min_count": COMMON_MIN_COUNT},
        )
    if distinct <= 10 * CATEGORY_MAX and distinct <= 0.1 * n:  # few values, but long ones
        return Choice(
            "drop", f"text of up to {longest} characters: too long for a category; uncertain"
        )
    return Choice(
        "drop", f"varied text ({distinct} distinct of {n} sampled): not a category; uncertain"
    )


def classify(
    table: str,
    info: TableInfo,
    col: ColumnInfo,
    values: pa.ChunkedArray,
    *,
    fk: Reference | None,
    domains: Domains,
) -> Choice:
    """The suggested classification of one column (see the module docstring)."""
    words, lowered = _words(col.name), col.name.lower()
    hashable = col.type in PSEUDONYMIZED_TYPES
    if col.name in info.primary_key and col.rounded:
        return Choice(
            "keep",
            f"a primary key column, {ROUNDED}, which pseudonymize does not take: kept "
            "rounded (a sync stops if two keys round to one); declare it numeric(p), "
            "p <= 38, to pseudonymize it exactly; review",
        )
    if col.name in info.primary_key and not hashable:  # it must reach the mirror: as it is
        return Choice(
            "keep",
            f"a primary key column, a {col.type}, which pseudonymize does not take: "
            "kept as it is; review",
        )
    if col.name in info.primary_key and fk is None:
        why = f"primary key of {table}" if len(info.primary_key) == 1 else "part of the primary key"
        return Choice(
            "pseudonymize",
            f"{why}; pseudonymized so joins still work",
            {"domain": domains.of_id(col.name, table)},
        )
    if not hashable and (fk is not None or re.search(r"(^|_)(id|uuid|guid)$", lowered)):
        what = ROUNDED if col.rounded else f"a {col.type}"
        return Choice("drop", f"an identifier, {what}, which pseudonymize does not take")
    if fk is not None:
        how = " (named as its key; no foreign key declared)" if fk.implied else ""
        return Choice(
            "pseudonymize", f"references {fk.table}.{fk.column}{how}", {"domain": fk.domain}
        )
    if re.search(r"(^|_)(id|uuid|guid)$", lowered):
        return Choice(
            "pseudonymize",
            "an identifier (by its name)",
            {"domain": domains.of_id(col.name, table)},
        )
    if words & _SECRET_WORDS or any(p in lowered for p in _SECRET_PHRASES):
        return Choice("secret", "the name suggests a credential")
    detected = _detected(values) if col.type == "text" else None
    if detected is not None:
        return detected
    numeric = col.type in ("bigint", "integer", "double", "numeric")
    if numeric and words & _LOCATION_WORDS:
        return Choice("drop", "a location coordinate")
    if col.type in ("double", "numeric") and looks_like_coordinates(values):
        return Choice("drop", "distinct numbers within ±180 with 4-7 decimals: coordinates")
    if numeric and words & _BODY_WORDS:
        what = (
            "an age or birth year"
            if words & {"age", "year", "birth"}
            else "a body or health measure"
        )
        return Choice("generalize", f"{what}, bucketed", {"bucket": _bucket(values, words)})
    if col.type == "text" and words & _GENDER_WORDS:
        return Choice(
            "generalize",
            f"a gender: only values seen {COMMON_MIN_COUNT}+ times are kept",
            {"min_count": COMMON_MIN_COUNT},
        )
    if words & (_PERSONAL_WORDS | _BODY_WORDS) or "birth" in lowered:
        return Choice("drop", "the name suggests personal data")
    if col.type in ("date", "timestamp") and looks_like_birth_dates(values):
        return Choice(
            "generalize",
            "past dates decades apart: birth dates, kept by the year",
            {"truncate": "year"},
        )
    return _by_type(col, values, words)

"""Users: signups growing over the years, US-heavy countries, real-looking unique emails.

Identity attributes (country, name, email) are pure functions of the user's index, so
other tables can recompute any user's email (device shares invite existing users) and
emails are unique by construction: the local part encodes a bijection of the index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.demo import strings as s
from safemirror.demo import vocab
from safemirror.demo.rand import chunk_rng, hash64, pick, unit
from safemirror.demo.timeline import DAY, LAUNCH, NULL_TS, YEAR, between

I64 = npt.NDArray[np.int64]

USERS_AT_SCALE_1 = 2_400_000
DELETED_SHARE = 0.04

_PLACE_COUNTRY = [p[0] for p in vocab.PLACES]
_PLACE_REGION = [p[1] or None for p in vocab.PLACES]
_PLACE_TZ = [p[2] for p in vocab.PLACES]
_NAME_BLOCK = len(vocab.FIRST_NAMES) * len(vocab.LAST_NAMES) * len(vocab.SEPARATORS)


@dataclass(frozen=True)
class Users:
    """Numeric attributes of a run of users that child tables build on."""

    index: I64  # 0-based; id = index + 1
    created: I64
    end: I64  # deletion time, or "now" for live accounts
    deleted: npt.NDArray[np.bool_]
    birth_year: I64  # 0 when unknown
    place: npt.NDArray[np.intp]
    first: I64
    last: I64

    @property
    def ids(self) -> I64:
        return self.index + 1

    def __len__(self) -> int:
        return len(self.index)


def user_count(scale: float) -> int:
    """Users at ``scale`` (2.4 M at scale 1)."""
    return max(10, round(USERS_AT_SCALE_1 * scale))


def places(seed: int, index: I64) -> npt.NDArray[np.intp]:
    """Index into ``vocab.PLACES`` (country, region, timezone) for each user."""
    return pick(unit(seed, "place", index), [p[3] for p in vocab.PLACES])


def names(seed: int, index: I64) -> tuple[I64, I64, I64, I64]:
    """(first, last, separator, number) per user; distinct users never share all four."""
    block, pos = np.divmod(index.astype(np.int64), _NAME_BLOCK)
    mult = _coprime_multiplier(seed)
    offset = (hash64(seed, "name-offset", block) % np.uint64(_NAME_BLOCK)).astype(np.int64)
    pos = (pos * mult + offset) % _NAME_BLOCK
    pos, first = np.divmod(pos, len(vocab.FIRST_NAMES))
    sep, last = np.divmod(pos, len(vocab.LAST_NAMES))
    return first, last, sep, block


def _coprime_multiplier(seed: int) -> int:
    mult = int(hash64(seed, "name-mult", np.zeros(1))[0] % np.uint64(_NAME_BLOCK)) | 1
    while math.gcd(mult, _NAME_BLOCK) != 1:
        mult += 2
    return mult


def emails(seed: int, index: I64, *, late: bool = False) -> pa.Array:
    """The email address of each user index — unique across all indexes.

    Generated users carry the number of their name block (below 1000); ``late`` users,
    added to an existing database whose seed is unknown, carry ``1000 + index`` instead,
    so they can never collide with a generated address.
    """
    first, last, sep, number = names(seed, index)
    if late:
        number = 1000 + index.astype(np.int64)
    suffix = s.with_nulls(s.ints(number), number > 0)
    local = s.concat(
        s.take(vocab.FIRST_NAMES, first),
        s.take(vocab.SEPARATORS, sep),
        s.take(vocab.LAST_NAMES, last),
        pc.fill_null(suffix, ""),
    )
    return s.concat(local, "@", domains(seed, index, places(seed, index)))


def domains(seed: int, index: I64, place: npt.NDArray[np.intp]) -> pa.Array:
    """Mail domains: global providers, or a national one for some non-US users."""
    u = unit(seed, "domain", index)
    glob = [d for d, _ in vocab.GLOBAL_DOMAINS]
    chosen = s.take(glob, pick(u, [w for _, w in vocab.GLOBAL_DOMAINS]))
    local_pool: list[str] = []
    local_pick = np.full(len(index), -1, dtype=np.int64)
    country = np.array(_PLACE_COUNTRY)[place]
    use_local = unit(seed, "domain-local", index) < 0.35
    for code, options in vocab.LOCAL_DOMAINS.items():
        mask = use_local & (country == code)
        local_pick[mask] = len(local_pool) + (u[mask] * len(options)).astype(np.int64)
        local_pool.extend(options)
    local = s.take(local_pool, np.maximum(local_pick, 0))
    return pc.if_else(pa.array(local_pick >= 0), local, chosen)


def display_names(rng: np.random.Generator, first: I64, last: I64) -> pa.Array:
    """Display names: "Jane Smith", "Jane", "Jane S." or a lowercase handle."""
    fcap = s.take([n.capitalize() for n in vocab.FIRST_NAMES], first)
    lcap = s.take([n.capitalize() for n in vocab.LAST_NAMES], last)
    initial = s.take([n[0].upper() + "." for n in vocab.LAST_NAMES], last)
    handle = s.concat(s.take(vocab.FIRST_NAMES, first), s.ints(rng.integers(1, 99, len(first))))
    style = pick(rng.random(len(first)), [55, 20, 15, 10])
    out = pc.if_else(pa.array(style == 0), s.concat(fcap, " ", lcap), fcap)
    out = pc.if_else(pa.array(style == 2), s.concat(fcap, " ", initial), out)
    return pc.if_else(pa.array(style == 3), handle, out)


def password_hashes(rng: np.random.Generator, created: I64) -> pa.Array:
    """bcrypt for accounts made before 2022, argon2id after."""
    n = len(created)
    bcrypt = s.concat("$2b$12$", s.from_matrix(s.random_chars(rng, n, 53, s.BCRYPT64)))
    salt = s.from_matrix(s.base64url(rng.integers(0, 256, (n, 15), dtype=np.uint8)))
    digest = s.from_matrix(s.base64url(rng.integers(0, 256, (n, 33), dtype=np.uint8)))
    argon = s.concat("$argon2id$v=19$m=65536,t=3,p=4$", salt, "$", digest)
    return pc.if_else(pa.array(created < LAUNCH + 3 * YEAR), bcrypt, argon)


def make_users(
    seed: int,
    chunk: int,
    index: I64,
    created: I64,
    now: int,
    *,
    deleted_share: float = DELETED_SHARE,
    late: bool = False,
) -> tuple[pa.Table, Users]:
    """The ``users`` rows for ``index`` (signup times given) and their numeric frame."""
    rng = chunk_rng(seed, "users", chunk)
    n = len(index)
    first, last, _, _ = names(seed, index)
    place = places(seed, index)
    deleted = rng.random(n) < deleted_share
    deleted_at = np.where(deleted, between(rng.random(n) ** 0.7, created + DAY, now), NULL_TS)
    deleted &= deleted_at < now
    deleted_at = np.where(deleted, deleted_at, NULL_TS)
    touched = np.where(rng.random(n) < 0.35, created, between(rng.random(n), created, now))
    updated = np.where(deleted, deleted_at, touched)
    age = np.clip(rng.normal(38, 12, n), 18, 85).astype(np.int64)
    birth_year = np.where(rng.random(n) < 0.12, 0, (created // YEAR + 1970) - age)
    recency = (created - LAUNCH) / max(now - LAUNCH, 1)
    two_factor = rng.random(n) < 0.10 + 0.25 * recency
    photo_hex = s.from_matrix(s.random_chars(rng, n, 32, s.HEX_LOWER))
    photo = s.concat("https://cdn.homesafe-iot.com/avatars/", photo_hex, ".jpg")
    ts = pa.timestamp("us", tz="UTC")
    table = pa.table(
        {
            "id": pa.array(index + 1, pa.int64()),
            "email": emails(seed, index, late=late),
            "display_name": display_names(rng, first, last),
            "password_hash": password_hashes(rng, created),
            "profile_photo_url": s.with_nulls(photo, rng.random(n) < 0.42),
            "country": s.take(_PLACE_COUNTRY, place),
            "region": pa.array(_PLACE_REGION, pa.string()).take(pa.array(place)),
            "timezone": s.take(_PLACE_TZ, place),
            "birth_year": pa.array(birth_year, pa.int32(), mask=birth_year == 0),
            "two_factor_enabled": pa.array(two_factor),
            "created_at": pa.array(created, ts),
            "updated_at": pa.array(updated, ts),
            "deleted_at": pa.array(deleted_at, ts, mask=~deleted),
        }
    )
    frame = Users(
        index=index,
        created=created,
        end=np.where(deleted, deleted_at, now),
        deleted=deleted,
        birth_year=birth_year,
        place=place,
        first=first,
        last=last,
    )
    return table, frame

"""Credentials: app sessions (``api_tokens``) and voice-assistant links (``integrations``).

Tokens look like the real things — opaque base64url, JWTs for the web app, ``Atza|``
for Alexa, ``ya29.`` for Google — and are unique by construction: their first eight bytes
are a keyed bijection of the row's id. Sessions end by logout (``revoked_at``); accounts
deleted revoke every live token and unlink every integration at the moment of deletion.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.demo import strings as s
from safemirror.demo import vocab
from safemirror.demo.devices import Devices
from safemirror.demo.rand import chunk_rng, permute, pick, rank_in_group
from safemirror.demo.timeline import DAY, MINUTE, NULL_TS, SECOND, YEAR, between
from safemirror.demo.users import Users

I64 = npt.NDArray[np.int64]

_TS = pa.timestamp("us", tz="UTC")
_LIFETIME = np.array([365 * DAY, 365 * DAY, 14 * DAY])  # ios, android, web
_JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"HS256","typ":"JWT"}
_JWT_PAYLOAD = '{"sub":"##########","iat":@@@@@@@@@@,"exp":%%%%%%%%%%,"jti":"$$$$$$$$$$$$$$$$$$"}'
# (access prefix, access bytes, refresh prefix, refresh bytes) per provider
_PROVIDER_TOKENS = {
    "alexa": ("Atza|IwEB", 72, "Atzr|IwEB", 72),
    "google_assistant": ("ya29.a0", 96, "1//0", 45),
    "ifttt": ("", 33, "", 48),
}


def opaque(rng: np.random.Generator, seed: int, stream: str, index: I64, nbytes: int) -> pa.Array:
    """base64url of ``nbytes`` bytes whose first eight are unique per ``index``."""
    head = s.be_bytes(permute(seed, stream, index))
    tail = rng.integers(0, 256, (len(index), nbytes - 8), dtype=np.uint8)
    return s.from_matrix(s.base64url(np.hstack([head, tail])))


def jwts(
    rng: np.random.Generator, seed: int, index: I64, *, user_id: I64, iat: I64, exp: I64
) -> pa.Array:
    """HS256-shaped JWTs whose payload decodes to ``sub``, ``iat``, ``exp`` and a unique ``jti``."""
    n = len(index)
    template = np.frombuffer(_JWT_PAYLOAD.encode(), dtype=np.uint8)
    payload = np.repeat(template[None, :], n, axis=0)
    for mark, values in (("#", user_id), ("@", iat), ("%", exp)):
        s.put_digits(payload, _JWT_PAYLOAD.index(mark), values, _JWT_PAYLOAD.count(mark))
    jti = _JWT_PAYLOAD.index("$")
    payload[:, jti : jti + 2] = s.random_chars(rng, n, 2, s.HEX_LOWER)
    payload[:, jti + 2 : jti + 18] = s.hex_chars(permute(seed, "jti", index), 16)
    signature = s.base64url(rng.integers(0, 256, (n, 33), dtype=np.uint8))
    return s.concat(
        _JWT_HEADER + ".", s.from_matrix(s.base64url(payload)), ".", s.from_matrix(signature)
    )


def make_tokens(seed: int, chunk: int, users: Users, first_index: int, now: int) -> pa.Table:
    """``api_tokens``: one login at signup, more over the account's life, ordered by time."""
    rng = chunk_rng(seed, "tokens", chunk)
    years = (users.end - users.created) / YEAR
    counts = np.minimum(1 + rng.poisson(0.5 * years), 20).astype(np.int64)
    owner = np.repeat(np.arange(len(users), dtype=np.int64), counts)
    n = len(owner)
    rank = rank_in_group(counts)
    created, end = users.created[owner], users.end[owner]
    at_signup = np.minimum(created + (rng.random(n) * 10 * MINUTE).astype(np.int64), end)
    created = np.where(rank == 0, at_signup, between(rng.random(n), created, end))
    order = np.argsort(created, kind="stable")
    owner, created, end = owner[order], created[order], end[order]

    primary = (rng.random(len(users)) >= 0.55).astype(np.int64)[owner]  # 0 ios, 1 android
    platform = pick(rng.random(n), [0.72, 0.23, 0.05])
    platform = np.where(platform == 0, primary, np.where(platform == 1, 2, 1 - primary))
    expires = created + _LIFETIME[platform]
    logout = rng.random(n) < 0.18
    revoked = np.where(logout, between(rng.random(n), created, np.minimum(expires, end)), NULL_TS)
    killed = users.deleted[owner] & ~logout & (expires > end)
    revoked = np.where(killed, end, revoked)

    index = first_index + np.arange(n, dtype=np.int64)
    user_id = users.ids[owner]
    web = platform == 2
    access = opaque(rng, seed, "api-access", index, 33)
    jwt = jwts(rng, seed, index, user_id=user_id, iat=created // SECOND, exp=expires // SECOND)
    return pa.table(
        {
            "id": pa.array(index + 1, pa.int64()),
            "user_id": pa.array(user_id, pa.int64()),
            "platform": s.take(vocab.PLATFORMS, platform),
            "access_token": pc.if_else(pa.array(web), jwt, access),
            "refresh_token": opaque(rng, seed, "api-refresh", index, 48),
            "created_at": pa.array(created, _TS),
            "expires_at": pa.array(expires, _TS),
            "revoked_at": pa.array(revoked, _TS, mask=revoked == NULL_TS),
        }
    )


def make_integrations(
    seed: int, chunk: int, users: Users, devices: Devices, first_index: int
) -> pa.Table:
    """``integrations``: Alexa, Google Assistant or IFTTT linked after the first device."""
    rng = chunk_rng(seed, "integrations", chunk)
    owners, first_device = np.unique(devices.owner, return_index=True)  # devices sorted by time
    first_active = devices.activated[first_device]
    user_rows, provider_rows, start_rows = [], [], []
    for p, (_, share) in enumerate(vocab.PROVIDERS):
        take = rng.random(len(owners)) < share
        user_rows.append(owners[take])
        start_rows.append(first_active[take])
        provider_rows.append(np.full(int(take.sum()), p, dtype=np.int64))
    owner = np.concatenate(user_rows)
    provider = np.concatenate(provider_rows)
    start = np.concatenate(start_rows)
    linked = start + rng.exponential(45 * DAY, len(owner)).astype(np.int64)
    end = users.end[owner]
    keep = linked < end
    owner, provider, linked, end = owner[keep], provider[keep], linked[keep], end[keep]
    order = np.argsort(linked, kind="stable")
    owner, provider, linked, end = owner[order], provider[order], linked[order], end[order]
    n = len(owner)
    unlinked = np.where(rng.random(n) < 0.2, between(rng.random(n), linked, end), NULL_TS)
    unlinked = np.where(users.deleted[owner] & (unlinked == NULL_TS), end, unlinked)

    index = first_index + np.arange(n, dtype=np.int64)
    access, refresh = provider_tokens(rng, seed, index, provider)
    return pa.table(
        {
            "id": pa.array(index + 1, pa.int64()),
            "user_id": pa.array(users.ids[owner], pa.int64()),
            "provider": s.take([p for p, _ in vocab.PROVIDERS], provider),
            "access_token": access,
            "refresh_token": refresh,
            "linked_at": pa.array(linked, _TS),
            "unlinked_at": pa.array(unlinked, _TS, mask=unlinked == NULL_TS),
        }
    )


def provider_tokens(
    rng: np.random.Generator, seed: int, index: I64, provider: I64
) -> tuple[pa.Array, pa.Array]:
    """Access and refresh tokens in each provider's own format, in row order."""
    access_parts, refresh_parts, positions = [], [], []
    for p, (name, _) in enumerate(vocab.PROVIDERS):
        rows = np.flatnonzero(provider == p)
        a_prefix, a_bytes, r_prefix, r_bytes = _PROVIDER_TOKENS[name]
        access_parts.append(
            s.concat(a_prefix, opaque(rng, seed, "link-access", index[rows], a_bytes))
        )
        refresh_parts.append(
            s.concat(r_prefix, opaque(rng, seed, "link-refresh", index[rows], r_bytes))
        )
        positions.append(rows)
    back = pa.array(np.argsort(np.concatenate(positions)))
    return (
        pa.concat_arrays(access_parts).take(back),
        pa.concat_arrays(refresh_parts).take(back),
    )

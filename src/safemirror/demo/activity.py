"""Append-only activity: connection events, device shares and body metrics.

Connection outcomes depend on the model, the firmware (bad releases fail several times as
often) and the device's Wi-Fi signal; client IPs are the household's public address, which
changes with each DHCP lease. Body metrics exist only for scale owners and drift slowly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.demo import network, vocab
from safemirror.demo import strings as s
from safemirror.demo.devices import Devices, firmware
from safemirror.demo.rand import chunk_rng, group_starts, pick, unit
from safemirror.demo.timeline import DAY, YEAR, between
from safemirror.demo.users import Users, emails

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

MAX_EVENTS_PER_DEVICE = 5000
LEASE = 200 * DAY  # how long a household keeps its public IP
TIMEOUT_MS = 30_000
SHARE_RATE = 0.18
BODY_PER_DAY = 0.016

_TS = pa.timestamp("us", tz="UTC")
_OUTCOMES = ("ok", "failed", "timeout")


def _ids(first_index: int, n: int) -> pa.Array:
    return pa.array(np.arange(first_index + 1, first_index + n + 1, dtype=np.int64))


def make_events(
    seed: int,
    chunk: int,
    users: Users,
    devices: Devices,
    *,
    first_index: int,
    counts: I64 | None = None,
) -> pa.Table:
    """``connection_events`` of ``devices``, ordered by time, ids from ``first_index + 1``.

    Each device connects between its activation and its last contact, at a rate set by its
    category, unless ``counts`` fixes how many events each device gets.
    """
    rng = chunk_rng(seed, "events", chunk)
    nd = len(devices)
    span_days = (devices.last_seen - devices.activated) / DAY
    rate = np.array(vocab.EVENTS_PER_DAY)[devices.category]
    lam = rate * span_days * rng.gamma(2.0, 0.5, nd)
    if counts is None:
        counts = np.minimum(rng.poisson(lam), MAX_EVENTS_PER_DEVICE)
    dev = np.repeat(np.arange(nd, dtype=np.int64), counts)
    ts = between(rng.random(len(dev)), devices.activated[dev], devices.last_seen[dev])
    order = np.argsort(ts, kind="stable")
    dev, ts = dev[order], ts[order]
    n = len(dev)

    outdoor = np.array([("Outdoor" in m[0]) or ("Doorbell" in m[0]) for m in vocab.MODELS])
    rssi_mean = np.clip(rng.normal(-60, 9, nd) - 6 * outdoor[devices.model], -92, -35)
    rssi = np.clip(np.round(rssi_mean[dev] + rng.normal(0, 3, n)), -100, -20).astype(np.int32)
    base = np.array([m[4] for m in vocab.MODELS])[devices.model]
    bad = firmware().bad[devices.firmware]
    p_bad = base * np.where(bad, vocab.BAD_FIRMWARE_FACTOR, 1.0)
    p = np.minimum(p_bad[dev] * (1 + 0.06 * np.maximum(0, -70 - rssi)), 0.9)
    u = rng.random(n)
    outcome = np.where(u < 0.68 * p, 1, np.where(u < p, 2, 0))

    codes = [c for c, _ in vocab.ERROR_CODES]
    failed = pick(rng.random(n), [w for _, w in vocab.ERROR_CODES])
    code = np.where(outcome == 2, len(codes), failed)
    error = pa.array([*codes, "ERR_TIMEOUT"], pa.string()).take(
        pa.array(code, pa.int64(), mask=outcome == 0)
    )
    weak = 1 + 0.03 * np.maximum(0, -65 - rssi)
    ok_ms = np.exp(rng.normal(np.log(140), 0.45, n)) * weak
    fail_ms = np.exp(rng.normal(np.log(1800), 0.7, n))
    latency = np.where(outcome == 0, ok_ms, np.where(outcome == 1, fail_ms, TIMEOUT_MS))

    household = users.index[devices.owner[dev]]
    phase = (unit(seed, "lease-phase", household) * LEASE).astype(np.int64)
    lease_key = household * 4096 + (ts + phase) // LEASE
    keys, inverse = np.unique(lease_key, return_inverse=True)
    client_ip = network.public_ips(seed, keys).take(pa.array(inverse.astype(np.int64)))
    return pa.table(
        {
            "id": _ids(first_index, n),
            "device_id": pa.array(devices.ids[dev], pa.int64()),
            "ts": pa.array(ts, _TS),
            "outcome": s.take(_OUTCOMES, outcome),
            "error_code": error,
            "rssi_dbm": pa.array(rssi, pa.int32()),
            "latency_ms": pa.array(np.minimum(latency, TIMEOUT_MS).astype(np.int32), pa.int32()),
            "client_ip": client_ip,
        }
    )


def guest_emails(rng: np.random.Generator, seed: int, n: int, user_count: int) -> pa.Array:
    """Invitees: existing users for about half, outside addresses for the rest."""
    existing = emails(seed, rng.integers(0, user_count, n, dtype=np.int64))
    nf, nl = len(vocab.FIRST_NAMES), len(vocab.LAST_NAMES)
    number = s.with_nulls(s.ints(rng.integers(1, 100, n)), rng.random(n) < 0.5)
    local = s.concat(
        s.take(vocab.FIRST_NAMES, rng.integers(0, nf, n)),
        s.take(vocab.SEPARATORS, rng.integers(0, len(vocab.SEPARATORS), n)),
        s.take(vocab.LAST_NAMES, rng.integers(0, nl, n)),
        pc.fill_null(number, ""),
    )
    domains = s.take(
        [d for d, _ in vocab.GLOBAL_DOMAINS],
        pick(rng.random(n), [w for _, w in vocab.GLOBAL_DOMAINS]),
    )
    outside = s.concat(local, "@", domains)
    return pc.if_else(pa.array(rng.random(n) < 0.45), existing, outside)


def make_shares(
    seed: int,
    chunk: int,
    users: Users,
    devices: Devices,
    *,
    first_index: int,
    user_count: int,
    counts: I64 | None = None,
) -> pa.Table:
    """``device_shares``: some cameras and locks shared with one or more guests."""
    rng = chunk_rng(seed, "shares", chunk)
    nd = len(devices)
    shareable = np.isin(devices.category, (0, 3)) & (rng.random(nd) < SHARE_RATE)
    if counts is None:
        counts = np.where(shareable, 1 + rng.poisson(0.35, nd), 0)
    dev = np.repeat(np.arange(nd, dtype=np.int64), counts)
    created = between(rng.random(len(dev)), devices.activated[dev], devices.last_seen[dev])
    order = np.argsort(created, kind="stable")
    dev, created = dev[order], created[order]
    return pa.table(
        {
            "id": _ids(first_index, len(dev)),
            "device_id": pa.array(devices.ids[dev], pa.int64()),
            "owner_user_id": pa.array(users.ids[devices.owner[dev]], pa.int64()),
            "guest_email": guest_emails(rng, seed, len(dev), user_count),
            "created_at": pa.array(created, _TS),
        }
    )


def _normal(seed: int, stream: str, index: I64) -> F64:
    """Standard normal draws keyed by index (Box–Muller over two hashed uniforms)."""
    u1 = 1.0 - unit(seed, stream + "/1", index)
    u2 = unit(seed, stream + "/2", index)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2)


def make_body_metrics(
    seed: int,
    chunk: int,
    users: Users,
    devices: Devices,
    *,
    first_index: int,
    per_scale: int | None = None,
) -> pa.Table:
    """``body_metrics`` from each scale: weight drifting slowly around the owner's baseline.

    A scale weighs its owner every few weeks over its life, or ``per_scale`` times.
    """
    rng = chunk_rng(seed, "body", chunk)
    scales = np.flatnonzero(devices.category == vocab.CATEGORIES.index("scale"))
    span_days = (devices.last_seen[scales] - devices.activated[scales]) / DAY
    engagement = rng.gamma(1.2, 1 / 1.2, len(scales))
    counts = np.minimum(rng.poisson(span_days * BODY_PER_DAY * engagement), 800)
    if per_scale is not None:
        counts = np.full(len(scales), per_scale, dtype=np.int64)
    group = np.repeat(np.arange(len(scales), dtype=np.int64), counts)
    dev = scales[group]
    ts = between(rng.random(len(dev)), devices.activated[dev], devices.last_seen[dev])
    ts = ts[np.lexsort((ts, group))]  # groups stay contiguous, each in time order
    n = len(dev)

    person = users.index[devices.owner[dev]]
    male = unit(seed, "sex", person) < 0.5
    height = np.where(male, 1.76, 1.63) + 0.07 * _normal(seed, "height", person)
    bmi0 = np.clip(27 + 4.5 * _normal(seed, "bmi", person), 17, 48)
    steps = rng.normal(0, 0.12, n)
    walk = np.cumsum(steps)
    starts = group_starts(counts.astype(np.int64))
    nonempty = counts > 0
    base = np.repeat(walk[starts[nonempty]] - steps[starts[nonempty]], counts[nonempty])
    weight = np.clip(bmi0 * height**2 + (walk - base) + rng.normal(0, 0.2, n), 35, 250)
    bmi = weight / height**2
    born = users.birth_year[devices.owner[dev]]
    age = np.where(born > 0, ts // YEAR + 1970 - born, 40)
    fat = 1.2 * bmi + 0.23 * age - 10.8 * male - 5.4 + rng.normal(0, 1.5, n)
    order = np.argsort(ts, kind="stable")
    fat_ok = rng.random(n) >= 0.05
    return pa.table(
        {
            "id": _ids(first_index, n),
            "user_id": pa.array((person + 1)[order], pa.int64()),
            "measured_at": pa.array(ts[order], _TS),
            "weight_kg": pa.array(np.round(weight, 1)[order], pa.float64()),
            "body_fat_pct": pa.array(
                np.round(np.clip(fat, 4, 60), 1)[order], pa.float64(), mask=~fat_ok
            ),
            "bmi": pa.array(np.round(bmi, 1)[order], pa.float64()),
        }
    )

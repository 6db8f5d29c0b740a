"""Devices: a skewed number per user, activated after signup, on models and firmware of their time.

A device's model is drawn among those already released when it was activated; its firmware
is the newest release of that model it had seen (a few lag behind). Some firmware releases
are flagged bad: the connection events of devices running them fail several times as often.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.demo import network, vocab
from safemirror.demo import strings as s
from safemirror.demo.rand import chunk_rng, pick, rank_in_group
from safemirror.demo.timeline import DAY, HOUR, LAUNCH, NULL_TS, REFERENCE, between, year_fraction
from safemirror.demo.users import Users

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

DEVICES_PER_USER = 2.0  # mean of the negative-binomial part, before the age factor


@dataclass(frozen=True)
class Firmware:
    """All firmware releases, grouped by model in release order."""

    model: I64
    released: I64
    bad: Mask
    version: tuple[str, ...]
    start: I64  # first release of each model


@functools.cache
def firmware() -> Firmware:
    """The firmware release history (fixed, independent of the seed)."""
    model: list[int] = []
    released: list[int] = []
    bad: list[bool] = []
    version: list[str] = []
    start: list[int] = []
    for m, (_, _, year, _, _, base, count, bad_ones) in enumerate(vocab.MODELS):
        start.append(len(model))
        first = year_fraction(year)
        step = (REFERENCE - 30 * DAY - first) // count // HOUR * HOUR
        for j in range(count):
            model.append(m)
            released.append(first + j * step)
            bad.append(j in bad_ones)
            build = 100 + (j * 7919 + m * 104_729) % 9000
            version.append(f"{base}.{3 + j}.{build}")
    return Firmware(
        np.array(model), np.array(released), np.array(bad), tuple(version), np.array(start)
    )


@dataclass(frozen=True)
class Devices:
    """Numeric attributes of a run of devices that child tables build on."""

    index: I64  # 0-based; id = index + 1
    owner: I64  # position of the owner in the Users frame
    category: I64
    model: I64
    firmware: I64
    activated: I64
    last_seen: I64
    deleted_at: I64  # NULL_TS when live
    counts: I64  # devices per user of the Users frame, in its order

    @property
    def ids(self) -> I64:
        return self.index + 1

    def __len__(self) -> int:
        return len(self.index)


def device_counts(rng: np.random.Generator, users: Users, now: int) -> I64:
    """Devices per user: 0 for a few, mostly 1–3, a long tail past 10; older accounts hold more."""
    age = (now - users.created) / max(now - LAUNCH, 1)
    mean = DEVICES_PER_USER * (0.55 + 0.9 * age)
    r = 0.9
    extra = rng.negative_binomial(r, r / (r + mean))
    counts = np.where(rng.random(len(users)) < 0.05, 0, 1 + extra)
    return np.minimum(counts, 40).astype(np.int64)


def _models(rng: np.random.Generator, category: I64, activated: I64) -> I64:
    """A model of ``category`` already on sale at ``activated``, by sales weight."""
    cats = np.array([m[1] for m in vocab.MODELS])
    release = np.array([year_fraction(m[2]) for m in vocab.MODELS])
    weight = np.array([m[3] for m in vocab.MODELS])
    first_of_cat = np.array([np.flatnonzero(cats == c)[0] for c in range(len(vocab.CATEGORIES))])
    w = np.where(
        (cats[None, :] == category[:, None]) & (release[None, :] <= activated[:, None]),
        weight[None, :],
        0.0,
    )
    w[np.arange(len(category)), first_of_cat[category]] += 1e-9  # before any release
    cum = np.cumsum(w, axis=1)
    u = (1.0 - rng.random(len(category))) * cum[:, -1]  # in (0, total]
    chosen: I64 = (cum < u[:, None]).sum(axis=1).astype(np.int64)
    return chosen


def _firmware(rng: np.random.Generator, model: I64, last_seen: I64) -> I64:
    """The firmware each device runs: the newest it saw, or one a few releases behind."""
    fw = firmware()
    out = np.empty(len(model), dtype=np.int64)
    lag = rng.geometric(0.72, len(model)) - 1
    for m in np.unique(model):
        mask = model == m
        start = int(fw.start[m])
        rel = fw.released[fw.model == m]
        newest = np.searchsorted(rel, last_seen[mask], side="right") - 1
        out[mask] = start + np.maximum(newest - lag[mask], 0)
    return out


def _nicknames(rng: np.random.Generator, category: I64) -> pa.Array:
    n = len(category)
    out = pa.nulls(n, pa.string())
    u = rng.random(n)
    kid = s.take(
        [x.capitalize() for x in vocab.FIRST_NAMES], rng.integers(0, len(vocab.FIRST_NAMES), n)
    )
    for c, names in vocab.NICKNAMES.items():
        mask = category == c
        plain = s.take(names, (u * len(names)).astype(np.int64))
        out = pc.if_else(pa.array(mask), plain, out)
        suffixes = vocab.POSSESSIVE_SUFFIXES.get(c)
        if suffixes:
            own = mask & (rng.random(n) < 0.22)
            possessive = s.concat(kid, s.take(suffixes, rng.integers(0, len(suffixes), n)))
            out = pc.if_else(pa.array(own), possessive, out)
    return s.with_nulls(out, rng.random(n) >= 0.08)


def make_devices(
    seed: int, chunk: int, users: Users, first_index: int, now: int
) -> tuple[pa.Table, Devices]:
    """The ``devices`` of ``users``, ids from ``first_index + 1``, ordered by activation."""
    rng = chunk_rng(seed, "devices", chunk)
    counts = device_counts(rng, users, now)
    owner = np.repeat(np.arange(len(users), dtype=np.int64), counts)
    n = len(owner)
    rank = rank_in_group(counts)
    created, end = users.created[owner], users.end[owner]
    first_mix = pick(rng.random(n), vocab.FIRST_DEVICE_MIX)
    later_mix = pick(rng.random(n), vocab.LATER_DEVICE_MIX)
    category = np.where(rank == 0, first_mix, later_mix).astype(np.int64)
    soon = np.minimum(created + rng.exponential(1.5 * DAY, n).astype(np.int64), end - 1)
    span_u = rng.random(n) * 0.999
    activated = np.where(rank == 0, np.maximum(soon, created + 1), between(span_u, created, end))
    order = np.lexsort((owner, activated))
    owner, rank, category = owner[order], rank[order], category[order]
    activated, end = activated[order], end[order]

    model = _models(rng, category, activated)
    dropped = rng.random(n) < 0.06
    deleted_at = np.where(dropped, between(rng.random(n), activated, end), NULL_TS)
    deleted_at = np.where(users.deleted[owner] & ~dropped, end, deleted_at)
    deleted = deleted_at != NULL_TS
    churned = rng.random(n) < 0.12
    active_seen = np.maximum(now - rng.exponential(8 * HOUR, n).astype(np.int64), activated)
    last_seen = np.where(churned, between(rng.random(n), activated, now), active_seen)
    last_seen = np.where(deleted, between(1 - rng.random(n) ** 2, activated, deleted_at), last_seen)
    fw_index = _firmware(rng, model, last_seen)
    fw_time = np.clip(firmware().released[fw_index], activated, last_seen)
    updated = np.where(deleted, deleted_at, np.maximum(activated, fw_time))

    index = first_index + np.arange(n, dtype=np.int64)
    user_rng = chunk_rng(seed, "households", chunk)
    ssid = network.ssids(user_rng, users.place, users.first, users.last)
    lan = network.lan_prefixes(user_rng, len(users))
    owner_ssid = ssid.take(pa.array(owner))
    second = s.concat(owner_ssid, s.take(["-5G", "_EXT", "-2.4"], rng.integers(0, 3, n)))
    wifi = pc.if_else(pa.array(rng.random(n) < 0.1), second, owner_ssid)
    ts = pa.timestamp("us", tz="UTC")
    table = pa.table(
        {
            "id": pa.array(index + 1, pa.int64()),
            "user_id": pa.array(users.ids[owner], pa.int64()),
            "mac": network.macs(index),
            "model": s.take([m[0] for m in vocab.MODELS], model),
            "category": s.take(vocab.CATEGORIES, category),
            "nickname": _nicknames(rng, category),
            "firmware_version": s.take(firmware().version, fw_index),
            "wifi_ssid": s.with_nulls(wifi, rng.random(n) >= 0.03),
            "local_ip": s.with_nulls(network.local_ips(rng, lan[owner]), rng.random(n) >= 0.02),
            "activated_at": pa.array(activated, ts),
            "last_seen_at": pa.array(last_seen, ts),
            "updated_at": pa.array(updated, ts),
            "deleted_at": pa.array(deleted_at, ts, mask=~deleted),
        }
    )
    frame = Devices(
        index=index,
        owner=owner,
        category=category,
        model=model,
        firmware=fw_index,
        activated=activated,
        last_seen=last_seen,
        deleted_at=deleted_at,
        counts=counts,
    )
    return table, frame

"""Deterministic randomness: per-chunk generators and counter-based hashes.

Two sources, both pure functions of the seed:

* ``chunk_rng(seed, stream, chunk)`` — a NumPy generator for bulk draws inside one chunk;
* ``unit(seed, stream, index)`` / ``permute(seed, stream, index)`` — a hash of an entity's
  index, so an attribute (a user's country, a device's MAC) can be recomputed anywhere
  without holding state. ``permute`` is a bijection on 64-bit integers: values derived from
  it are unique by construction, not by luck.
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def stream_key(seed: int, stream: str) -> np.uint64:
    """A 64-bit key for a named random stream under ``seed``."""
    digest = hashlib.blake2b(f"{seed}/{stream}".encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def mix(x: U64) -> U64:
    """The SplitMix64 finalizer: a bijection on uint64 with good avalanche."""
    with np.errstate(over="ignore"):
        z = x ^ (x >> np.uint64(30))
        z = z * _C1
        z = z ^ (z >> np.uint64(27))
        z = z * _C2
        out: U64 = z ^ (z >> np.uint64(31))
        return out


def permute(seed: int, stream: str, index: npt.ArrayLike) -> U64:
    """A keyed bijection of ``index``: distinct indexes always give distinct values."""
    return mix(np.asarray(index, dtype=np.uint64) ^ stream_key(seed, stream))


def hash64(seed: int, stream: str, index: npt.ArrayLike) -> U64:
    """Pseudo-random 64-bit words, one per index, for ``stream``."""
    idx = np.asarray(index, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return mix(idx * _GOLDEN + stream_key(seed, stream))


def unit(seed: int, stream: str, index: npt.ArrayLike) -> F64:
    """Uniform floats in [0, 1), one per index, for ``stream``."""
    return (hash64(seed, stream, index) >> np.uint64(11)).astype(np.float64) * (2.0**-53)


def chunk_rng(seed: int, stream: str, chunk: int) -> np.random.Generator:
    """A NumPy generator for ``stream`` in chunk number ``chunk``."""
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(stream.encode()), chunk])


def pick(u: F64, weights: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Categorical draw: index into ``weights`` for each uniform in ``u``."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    idx = np.searchsorted(cum / cum[-1], u, side="right")
    return np.minimum(idx, len(cum) - 1)


def group_starts(counts: npt.NDArray[np.int64]) -> I64:
    """Offset of each group's first element in the flattened, repeated array."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def rank_in_group(counts: npt.NDArray[np.int64]) -> I64:
    """0, 1, … within each group for ``np.repeat(…, counts)``."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(group_starts(counts), counts)

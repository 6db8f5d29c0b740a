"""``pseudonymize``: keyed HMAC-SHA-256 within a named domain, as a joinable BIGINT.

``pseudonym = int64(first 8 bytes of HMAC-SHA-256(key, domain || 0x00 || value))``.
Integers are hashed as their decimal text, so ``users.id = 7`` and a text ``"7"`` in
another table map to the same pseudonym. Values are hashed once per distinct value: a
sorted per-domain cache (16 bytes an entry, bounded) serves repeats across batches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.policy.model import Action, ColumnPolicy
from safemirror.transforms.registry import ColumnOp, TransformContext, operator

BLOCK = 64
CACHE_LIMIT = 32_000_000  # entries per domain (~512 MB); beyond it the cache restarts


class KeyedHasher:
    """HMAC-SHA-256 with the key schedule computed once (RFC 2104)."""

    def __init__(self, key: bytes) -> None:
        if len(key) > BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def many(self, prefix: bytes, messages: list[bytes]) -> np.ndarray:
        """Signed 64-bit pseudonyms of ``prefix + m`` for every message."""
        inner_base, outer_base = self._inner.copy(), self._outer.copy()
        inner_base.update(prefix)
        out = bytearray()
        for message in messages:
            inner = inner_base.copy()
            inner.update(message)
            outer = outer_base.copy()
            outer.update(inner.digest())
            out += outer.digest()[:8]
        return np.frombuffer(bytes(out), dtype=">i8").astype(np.int64)


@dataclass
class DomainCache:
    """Sorted value → pseudonym arrays for integer values of one domain."""

    keys: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    values: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    text: dict[str, int] = field(default_factory=dict)


class Pseudonymizer:
    """Maps values to pseudonyms per domain, hashing each distinct value once."""

    def __init__(self, key: bytes) -> None:
        self._hasher = KeyedHasher(key)
        self._caches: dict[str, DomainCache] = {}

    def _cache(self, domain: str) -> DomainCache:
        return self._caches.setdefault(domain, DomainCache())

    def integers(self, domain: str, values: np.ndarray) -> np.ndarray:
        """Pseudonyms for an int64 array (no nulls)."""
        uniques, inverse = np.unique(values, return_inverse=True)
        cache = self._cache(domain)
        pos = np.searchsorted(cache.keys, uniques)
        found = pos < len(cache.keys)
        found[found] = cache.keys[pos[found]] == uniques[found]
        mapped = np.empty(len(uniques), np.int64)
        mapped[found] = cache.values[pos[found]]
        missing = uniques[~found]
        if len(missing):
            fresh = self._hasher.many(
                domain.encode() + b"\0", [str(v).encode() for v in missing.tolist()]
            )
            mapped[~found] = fresh
            if len(cache.keys) + len(missing) > CACHE_LIMIT:
                cache.keys, cache.values = np.empty(0, np.int64), np.empty(0, np.int64)
            keys = np.concatenate([cache.keys, missing])
            order = np.argsort(keys, kind="stable")
            cache.keys = keys[order]
            cache.values = np.concatenate([cache.values, fresh])[order]
        return mapped[inverse]

    def texts(self, domain: str, values: list[str]) -> list[int]:
        """Pseudonyms for distinct text values."""
        cache = self._cache(domain).text
        missing = [v for v in values if v not in cache]
        if missing:
            if len(cache) + len(missing) > CACHE_LIMIT // 8:
                cache.clear()
            fresh = self._hasher.many(domain.encode() + b"\0", [v.encode() for v in missing])
            cache.update(zip(missing, fresh.tolist(), strict=True))
        return [cache[v] for v in values]

    def array(self, domain: str, values: pa.Array) -> pa.Array:
        """Pseudonymize an Arrow array of integers or strings; nulls stay null."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        valid = values.is_valid()
        if pa.types.is_integer(values.type):
            dense = values.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            result = pa.array(self.integers(domain, dense), pa.int64())
        elif pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            encoded = pc.dictionary_encode(values)
            uniques = encoded.dictionary.to_pylist()
            mapped = pa.array(self.texts(domain, uniques), pa.int64())
            indices = encoded.indices.fill_null(0)
            result = mapped.take(indices) if len(mapped) else pa.nulls(len(values), pa.int64())
        else:
            raise TypeError(f"cannot pseudonymize values of type {values.type}")
        if values.null_count:
            result = pc.if_else(valid, result, pa.scalar(None, pa.int64()))
        return result


def pseudonymizer(ctx: TransformContext) -> Pseudonymizer:
    """The run's shared pseudonymizer (one cache per run)."""
    if ctx.key is None:
        raise ValueError("pseudonymize needs a key")
    found = ctx.shared.get("pseudonymizer")
    if not isinstance(found, Pseudonymizer):
        found = Pseudonymizer(ctx.key)
        ctx.shared["pseudonymizer"] = found
    return found


@operator(Action.PSEUDONYMIZE)
def build_pseudonymize(
    table: str, column: str, spec: ColumnPolicy, ctx: TransformContext
) -> ColumnOp:
    engine, domain = pseudonymizer(ctx), str(spec.domain)

    def op(values: pa.Array) -> pa.Array:
        return engine.array(domain, values)

    return op

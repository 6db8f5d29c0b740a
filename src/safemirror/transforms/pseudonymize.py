"""``pseudonymize``: keyed HMAC-SHA-256 within a named domain, as a joinable BIGINT.

``pseudonym = int64(first 8 bytes of HMAC-SHA-256(key, domain || 0x00 || value))``.
Integers (and decimals) are hashed as their decimal text, so ``users.id = 7`` and a text
``"7"`` in another table map to the same pseudonym. Values are hashed once per distinct
value: the per-domain caches of ``pseudocache`` serve repeats across batches and tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import numpy.ma  # pa.array(ndarray) imports it on first use: at import, not mid-run
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.policy.model import Action, ColumnPolicy
from safemirror.transforms.pseudocache import IntCache, TextCache
from safemirror.transforms.registry import ColumnOp, TransformContext, operator

BLOCK = 64
CHUNK = 16_384  # values formatted and hashed at a time


class KeyedHasher:
    """HMAC-SHA-256 with the key schedule computed once (RFC 2104).

    Each value costs two SHA-256 blocks from the precomputed pads. The per-value loop
    is kept to the six C calls hashlib needs (copy, update, digest, twice); formatting,
    packing and the 64-bit conversion happen once per call, vectorized.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) > BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def many(self, prefix: bytes, messages: Iterable[bytes]) -> np.ndarray:
        """Signed 64-bit pseudonyms of ``prefix + m`` for every message."""
        inner_base = self._inner.copy()
        inner_base.update(prefix)
        inner_copy, outer_copy = inner_base.copy, self._outer.copy
        digests: list[bytes] = []
        append = digests.append
        for message in messages:
            inner = inner_copy()
            inner.update(message)
            outer = outer_copy()
            outer.update(inner.digest())
            append(outer.digest())
        # 32-byte digests; the first big-endian int64 of each is the pseudonym.
        packed = np.frombuffer(b"".join(digests), dtype=">i8")
        return packed[::4].astype(np.int64)

    def integers(self, prefix: bytes, values: np.ndarray) -> np.ndarray:
        """Pseudonyms of int64 ``values``, hashed as their decimal text (in chunks, so the
        Python objects alive at once stay few)."""
        text = pc.cast(pa.array(values, pa.int64()), pa.string()).view(pa.binary())
        parts = [
            self.many(prefix, text.slice(start, CHUNK).to_pylist())
            for start in range(0, len(text), CHUNK)
        ]
        return np.concatenate(parts) if parts else np.empty(0, np.int64)


class Pseudonymizer:
    """Maps values to pseudonyms per domain, hashing each distinct value once."""

    def __init__(self, key: bytes) -> None:
        self._hasher = KeyedHasher(key)
        self._ints: dict[str, IntCache] = {}
        self._texts: dict[str, TextCache] = {}

    def integers(self, domain: str, values: np.ndarray) -> np.ndarray:
        """Pseudonyms for an int64 array (no nulls)."""
        prefix, hasher = domain.encode() + b"\0", self._hasher
        cache = self._ints.setdefault(domain, IntCache())
        return cache.lookup(values, lambda new: hasher.integers(prefix, new))

    def texts(self, domain: str, values: list[bytes]) -> list[int]:
        """Pseudonyms for distinct UTF-8 encoded text values."""
        prefix, hasher = domain.encode() + b"\0", self._hasher
        cache = self._texts.setdefault(domain, TextCache())
        return cache.lookup(values, lambda new: hasher.many(prefix, new))

    def array(self, domain: str, values: pa.Array) -> pa.Array:
        """Pseudonymize an Arrow array of integers, decimals, strings or binary values;
        nulls stay null. A decimal is hashed as its text, so ``NUMERIC(19,0)`` 7 and
        ``BIGINT`` 7 agree; a string as its UTF-8 bytes, a binary value as its bytes."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_decimal(values.type):
            values = values.cast(pa.string())
        if pa.types.is_integer(values.type):
            ints = values.cast(pa.int64())
            nulls = ints.null_count
            if nulls == len(ints):
                return pa.nulls(len(ints), pa.int64())
            if nulls:  # a value of the batch: no extra hash, no wider window
                ints = ints.fill_null(pc.min(ints))
            numbers = ints.to_numpy(zero_copy_only=False)
            result = pa.array(self.integers(domain, numbers), pa.int64())
            if nulls:
                result = pc.if_else(values.is_valid(), result, pa.scalar(None, pa.int64()))
            return result
        if _is_bytes(values.type):
            binary = pa.large_binary() if _is_large(values.type) else pa.binary()
            encoded = pc.dictionary_encode(values)
            if not len(encoded.dictionary):
                return pa.nulls(len(values), pa.int64())
            uniques = encoded.dictionary.view(binary).to_pylist()
            mapped = pa.array(self.texts(domain, uniques), pa.int64())
            return mapped.take(encoded.indices)  # null indices give nulls
        raise TypeError(f"cannot pseudonymize values of type {values.type}")


def _is_bytes(kind: pa.DataType) -> bool:
    """Text or binary (hashed byte for byte)."""
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_large_binary(kind)
    )


def _is_large(kind: pa.DataType) -> bool:
    return bool(pa.types.is_large_string(kind) or pa.types.is_large_binary(kind))


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

"""Per-domain pseudonym caches, so each distinct value is hashed once per run.

Integer ids are mostly compact ranges (serial keys), so ``IntCache`` serves values inside
a window by direct indexing (a table of pseudonyms and a "known" mask: one gather a
batch, no sort); values outside it (sparse or far-off ids) go to sorted arrays that new
entries are merged into. Text values use a dict keyed by their UTF-8 bytes. Every cache
is bounded and restarts rather than grow past its limit; a restart only costs rehashing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CACHE_LIMIT = 32_000_000  # sorted entries per domain (16 bytes each, ~512 MB)
TEXT_LIMIT = CACHE_LIMIT // 8  # text entries per domain
DENSE_LIMIT = 32_000_000  # window slots per domain (9 bytes each, ~288 MB)
DENSE_MIN = 1 << 16  # a window may always be this wide ...
DENSE_SLACK = 4  # ... or this many times the values it may hold, whichever is more
INT64_MIN = -(2**63)

HashInts = Callable[[np.ndarray], np.ndarray]  # sorted distinct int64 -> pseudonyms
HashTexts = Callable[[list[bytes]], np.ndarray]  # distinct UTF-8 values -> pseudonyms


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct int64 ``values``: a bitmap when they are compact, else a sort."""
    lo, hi = int(values.min()), int(values.max())
    if hi - lo < DENSE_MIN + DENSE_SLACK * len(values):
        mark = np.zeros(hi - lo + 1, np.bool_)
        mark[values - lo] = True
        return np.flatnonzero(mark) + lo
    return np.unique(values)


class IntCache:
    """int64 value → pseudonym for one domain: a direct window plus sorted arrays."""

    def __init__(self) -> None:
        self.base = 0  # the value held by table[0]
        self.table = np.empty(0, np.int64)
        self.known = np.empty(0, np.bool_)
        self.filled = 0  # known slots
        self.keys = np.empty(0, np.int64)  # sorted; never inside the window
        self.values = np.empty(0, np.int64)

    def lookup(self, values: np.ndarray, hash_ints: HashInts) -> np.ndarray:
        """Pseudonyms of ``values`` (int64, no nulls), hashing only unseen ones."""
        if not len(values):
            return np.empty(0, np.int64)
        lo, hi = int(values.min()), int(values.max())
        self._widen(lo, hi, len(values))
        start, stop = self.base, self.base + len(self.table)
        if start <= lo and hi < stop:
            return self._direct(values, hash_ints)
        inside = (values >= start) & (values < stop)
        out = np.empty(len(values), np.int64)
        out[inside] = self._direct(values[inside], hash_ints)
        outside = ~inside
        out[outside] = self._sorted(values[outside], hash_ints)
        return out

    def _widen(self, lo: int, hi: int, rows: int) -> None:
        """Grow the window to cover ``[lo, hi]`` if it stays compact and bounded."""
        if len(self.table):
            if self.base <= lo and hi < self.base + len(self.table):
                return
            lo, hi = min(lo, self.base), max(hi, self.base + len(self.table) - 1)
        span = hi - lo + 1
        if span > min(DENSE_LIMIT, max(DENSE_MIN, DENSE_SLACK * (self.filled + rows))):
            return
        size = min(span + span // 2, DENSE_LIMIT)  # headroom, so growth reallocates rarely
        if len(self.table) and lo < self.base:  # growing downward: the headroom goes below
            lo = max(lo - (size - span), INT64_MIN)
        table, known = np.zeros(size, np.int64), np.zeros(size, np.bool_)
        if len(self.table):
            at = self.base - lo
            table[at : at + len(self.table)] = self.table
            known[at : at + len(self.known)] = self.known
        moved = (self.keys >= lo) & (self.keys < lo + size)
        if moved.any():  # sorted entries the window now covers move into it
            table[self.keys[moved] - lo] = self.values[moved]
            known[self.keys[moved] - lo] = True
            self.filled += int(moved.sum())
            self.keys, self.values = self.keys[~moved], self.values[~moved]
        self.base, self.table, self.known = lo, table, known

    def _direct(self, values: np.ndarray, hash_ints: HashInts) -> np.ndarray:
        slots = values - self.base
        hit = self.known.take(slots)
        if not hit.all():
            new = distinct(slots[~hit])
            self.table[new] = hash_ints(new + self.base)
            self.known[new] = True
            self.filled += len(new)
        return self.table.take(slots)

    def _sorted(self, values: np.ndarray, hash_ints: HashInts) -> np.ndarray:
        uniques, inverse = np.unique(values, return_inverse=True)
        pos = np.searchsorted(self.keys, uniques)
        found = pos < len(self.keys)
        found[found] = self.keys[pos[found]] == uniques[found]
        mapped = np.empty(len(uniques), np.int64)
        mapped[found] = self.values[pos[found]]
        missing = ~found
        if missing.any():
            new = uniques[missing]
            fresh = hash_ints(new)
            mapped[missing] = fresh
            if len(self.keys) + len(new) > CACHE_LIMIT:
                self.keys, self.values = new, fresh
            else:  # a linear merge of two sorted arrays, not a re-sort
                at = pos[missing]
                self.keys = np.insert(self.keys, at, new)
                self.values = np.insert(self.values, at, fresh)
        return mapped.take(inverse.reshape(-1))


class TextCache:
    """UTF-8 value → pseudonym for one domain."""

    def __init__(self) -> None:
        self.entries: dict[bytes, int] = {}

    def lookup(self, values: list[bytes], hash_texts: HashTexts) -> list[int]:
        """Pseudonyms of distinct ``values``, hashing only unseen ones."""
        entries = self.entries
        missing = [v for v in values if v not in entries]
        if missing:
            if len(entries) + len(missing) > TEXT_LIMIT:
                entries.clear()
                missing = values
            entries.update(zip(missing, hash_texts(missing).tolist(), strict=True))
        return list(map(entries.__getitem__, values))

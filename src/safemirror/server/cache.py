"""Metric results cached per mirror file, computed once however many ask at the same time.

A metric result is a pure function of the mirror file, the query and the minimum cell
size, so the key holds the file's identity (device, inode, mtime, size): a sync that
replaces the mirror makes every old entry unreachable. Concurrent requests for the same
key wait for the one computation in flight instead of repeating it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class ResultCache:
    """A small thread-safe LRU with single-flight computation."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._inflight: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> tuple[Any, bool]:
        """The value for ``key`` and whether it came from the cache."""
        if self.size <= 0:
            return compute(), False
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key], True
            gate = self._inflight.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    return self._data[key], True
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._inflight.pop(key, None)
                raise
            with self._lock:
                self._data[key] = value
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
                self._inflight.pop(key, None)
        return value, False

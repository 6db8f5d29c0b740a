"""Stops asked for by a signal (Ctrl-C, SIGTERM) while a command runs.

Within ``stops_unwind``, SIGINT raises ``KeyboardInterrupt`` and SIGTERM ``Terminated`` in
the main thread, so the command unwinds: it removes what it was writing, releases its
locks and audits its end. The stop is also recorded (``requested``): DuckDB, which checks
for signals during a long query, answers one with an error of its own ("Query
interrupted"), and a stop met while DuckDB reads a Python stream comes back as DuckDB's
report of it; the command then reports the stop, not those errors. A library that
catches a signal in place of the handler here reports it with ``record``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from safemirror.errors import Terminated

_requested: list[BaseException] = []  # the first stop asked for, while a block runs
_active: list[bool] = []  # one entry while a ``stops_unwind`` block runs


def requested() -> BaseException | None:
    """The stop asked for since ``stops_unwind`` began, if any."""
    return _requested[0] if _requested else None


def record(stop: BaseException) -> None:
    """Record ``stop`` as asked for, while a ``stops_unwind`` block runs (outside one,
    nothing unwinds on a stop, so nothing is recorded)."""
    if _active and not _requested:
        _requested.append(stop)


def _stop(signum: int, frame: FrameType | None) -> None:
    stop: BaseException = KeyboardInterrupt() if signum == signal.SIGINT else Terminated()
    if not _requested:
        _requested.append(stop)
    raise stop


@contextmanager
def stops_unwind() -> Iterator[None]:
    """SIGINT and SIGTERM raise (and record) a stop while the block runs; an error that
    escapes the block once a stop was asked for is raised as that stop. Outside the main
    thread, where no handler can be set, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    _requested.clear()
    _active.append(True)
    try:
        yield
    except BaseException as exc:
        stop = requested()
        if stop is not None and exc is not stop:
            raise stop from None
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _active.clear()
        _requested.clear()

"""Stops asked for by a signal (Ctrl-C, SIGTERM) while a command runs.

Within ``stops_unwind``, SIGINT raises ``KeyboardInterrupt`` and SIGTERM ``Terminated`` in
the main thread, so the command unwinds: it removes what it was writing, releases its
locks and audits its end. The stop is also recorded (``requested``): DuckDB, which checks
for signals during a long query, answers one with an error of its own ("Query
interrupted"), and a stop met while DuckDB reads a Python stream comes back as DuckDB's
report of it; the command then reports the stop, not those errors.

Python runs a signal's handler only between the main thread's bytecodes, so a thread
blocked in a database driver's call (waiting on a lock, say) would hear of a stop only
once the call returns, perhaps never before a service manager's SIGKILL. A call that can
be cancelled registers its cancel (``cancelled_on_stop``): a watcher thread, woken by the
signal itself (``signal.set_wakeup_fd``), calls it at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from safemirror.errors import Terminated

_requested: list[BaseException] = []  # the first stop asked for, while a block runs
_active: list[bool] = []  # one entry while a ``stops_unwind`` block runs
_cancels: list[Callable[[], object]] = []  # the cancels of the calls under way
_cancels_lock = threading.Lock()
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def requested() -> BaseException | None:
    """The stop asked for since ``stops_unwind`` began, if any."""
    return _requested[0] if _requested else None


def check() -> None:
    """Raise the stop asked for, if any: a handler's exception raised inside C code that
    swallows errors (an import pyarrow makes in a compute call, say) is lost, but the stop
    it recorded is not. Long work calls this between steps, and before it commits."""
    if _requested:
        raise _requested[0]


def unwinding() -> bool:
    """Whether a ``stops_unwind`` block runs (its watcher cancels registered calls)."""
    return bool(_active)


def _record(stop: BaseException) -> None:
    """Record ``stop`` as asked for, while a ``stops_unwind`` block runs (outside one,
    nothing unwinds on a stop, so nothing is recorded)."""
    if _active and not _requested:
        _requested.append(stop)


@contextmanager
def cancelled_on_stop(cancel: Callable[[], object]) -> Iterator[None]:
    """While the block runs, a stop signal calls ``cancel`` at once, from another thread
    (errors it raises are ignored: the call then ends as it would have). A block entered
    once a stop was asked for (a feed thread opening its next read while the main thread
    unwinds, say) raises that stop instead of running: nothing would cancel its call."""
    with _cancels_lock:
        _cancels.append(cancel)
    try:
        check()  # after registering: a stop recorded from here on cancels the call
        yield
    finally:
        with _cancels_lock:
            _cancels.remove(cancel)


def _stop_for(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


def _stop(signum: int, frame: FrameType | None) -> None:
    stop = _stop_for(signum)
    _record(stop)
    raise stop


def _watch(wakeups: int) -> None:
    """Record each stop signal written to ``wakeups`` and cancel the calls under way;
    return once the write end is closed."""
    while data := os.read(wakeups, 64):
        for signum in data:
            if signum not in _SIGNALS:
                continue
            _record(_stop_for(signum))
            with _cancels_lock:
                under_way = list(_cancels)
            for cancel in under_way:
                with contextlib.suppress(Exception):
                    cancel()


@contextmanager
def _watching() -> Iterator[None]:
    """A watcher thread woken by every signal while the block runs."""
    wakeups, wake = os.pipe()
    os.set_blocking(wake, False)
    try:
        previous = signal.set_wakeup_fd(wake, warn_on_full_buffer=False)
    except BaseException:
        os.close(wakeups)
        os.close(wake)
        raise
    watcher = threading.Thread(target=_watch, args=(wakeups,), name="stop-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.close(wake)  # the watcher reads the end of the pipe and returns
        watcher.join()
        os.close(wakeups)


@contextmanager
def stops_unwind() -> Iterator[None]:
    """SIGINT and SIGTERM raise (and record) a stop while the block runs, and cancel the
    calls under way; an error that escapes the block once a stop was asked for is raised
    as that stop. Outside the main thread, where no handler can be set, the block runs as
    it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _stop) for sig in _SIGNALS}
    _requested.clear()
    _active.append(True)
    try:
        with _watching():
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

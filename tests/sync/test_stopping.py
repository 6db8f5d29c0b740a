"""A stop asked for by a signal is reported as itself, whatever error it surfaced as."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import pytest

from safemirror import stopping
from safemirror.errors import Terminated
from safemirror.sources import driver_stops


def _signalled(signum: int) -> None:
    """Send ``signum`` to this process and let its handler run."""
    os.kill(os.getpid(), signum)
    time.sleep(0.5)  # the handler raises at the next instruction, well before this ends


@pytest.mark.parametrize(
    ("signum", "raised"), [(signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)]
)
def test_a_stop_that_surfaced_as_another_error_is_raised_as_the_stop(
    signum: int, raised: type[BaseException]
) -> None:
    before = signal.getsignal(signum)
    with pytest.raises(raised), stopping.stops_unwind():
        try:
            _signalled(signum)
        except BaseException:
            raise RuntimeError("Query interrupted") from None  # as DuckDB answers a signal
    assert stopping.requested() is None  # forgotten once the block is left
    assert signal.getsignal(signum) is before  # the previous handler is back


def test_without_a_stop_errors_pass_unchanged() -> None:
    with pytest.raises(ValueError, match="plain"), stopping.stops_unwind():
        raise ValueError("plain")


def test_calls_register_their_cancel_only_while_a_block_runs() -> None:
    assert not stopping.unwinding()  # a driver call keeps its own Ctrl-C handling
    with stopping.stops_unwind():
        assert stopping.unwinding()
    assert not stopping.unwinding()


def test_a_stop_cancels_the_calls_under_way_at_once() -> None:
    """A call blocked in C code (here in another thread) never lets Python's handler act
    on it: the stop calls its cancel from the watcher thread."""
    registered, cancelled = threading.Event(), threading.Event()

    def blocked_call() -> None:
        with stopping.cancelled_on_stop(cancelled.set):
            registered.set()
            cancelled.wait(10)

    call = threading.Thread(target=blocked_call)
    with pytest.raises(Terminated), stopping.stops_unwind():
        call.start()
        assert registered.wait(10)
        try:
            _signalled(signal.SIGTERM)
        finally:
            call.join()
    assert cancelled.is_set()  # by the stop, not after the call's 10 s
    assert signal.set_wakeup_fd(-1) == -1  # the wakeup descriptor is put back


def test_a_stop_whose_exception_was_swallowed_is_still_raised() -> None:
    """C code may swallow the handler's exception (pyarrow importing a module inside a
    compute call does); the stop stays recorded, and ``check`` raises it."""
    raised: list[BaseException] = []
    with stopping.stops_unwind():
        stopping.check()  # nothing asked for yet
        with contextlib.suppress(Terminated):  # swallowed
            _signalled(signal.SIGTERM)
        try:
            stopping.check()
        except Terminated as exc:
            raised.append(exc)
    assert len(raised) == 1


def test_a_call_that_would_start_after_a_stop_is_refused_as_the_stop() -> None:
    """Once a stop is recorded, a driver call another thread would start next is not
    made: nothing would cancel it, and it could wait on the source for as long as it
    likes. The stop is raised in its place."""
    made: list[str] = []
    with pytest.raises(Terminated), stopping.stops_unwind():
        with contextlib.suppress(Terminated):  # swallowed, as a feed thread's may be
            _signalled(signal.SIGTERM)
        driver_stops._stoppable_call(made.append, ("query",), {}, lambda: None)
    assert made == []
    driver_stops._stoppable_call(made.append, ("query",), {}, lambda: None)  # no stop: made
    assert made == ["query"]

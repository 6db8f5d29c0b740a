"""Stops (Ctrl-C, SIGTERM) during a database driver's call, reported as the stops they are.

While an ADBC call blocks in the main thread, the driver manager puts its own SIGINT
handler in place of Python's and answers Ctrl-C by cancelling the call: the stop then
surfaces as a driver error (PostgreSQL's "canceling statement", SQLite's "cancel not
supported") that would be reported as a failed read, and a Ctrl-C that lands as the call
ends is lost altogether. ``install`` wraps the manager's blocking call: while a command
unwinds on stops (``stopping.stops_unwind``), Python's handlers stay in place and the call
only registers its cancel (``stopping.cancelled_on_stop``), which the stop's watcher
calls at once, for SIGTERM as for Ctrl-C and in every thread. Elsewhere the manager's own
Ctrl-C handling is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import adbc_driver_manager.dbapi as adbc_dbapi

from safemirror import stopping

_blocking_call: Callable[..., Any] = adbc_dbapi._blocking_call  # type: ignore[attr-defined]


def _stoppable_call(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], cancel: Any
) -> Any:
    """The manager's blocking call, or, while stops unwind, the call with its cancel
    registered for the stop's watcher."""
    if not stopping.unwinding():
        return _blocking_call(func, args, kwargs, cancel)
    with stopping.cancelled_on_stop(cancel):
        return func(*args, **kwargs)


def install() -> None:
    """Route every blocking ADBC call through ``_stoppable_call`` (idempotent)."""
    adbc_dbapi._blocking_call = _stoppable_call  # type: ignore[attr-defined]

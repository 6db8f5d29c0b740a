"""Ctrl-C during a database driver's call, reported as the stop it is.

While an ADBC call blocks in the main thread, the driver manager puts its own SIGINT
handler in place of Python's and answers Ctrl-C by cancelling the call, so the stop
surfaces as a driver error (PostgreSQL's "canceling statement", SQLite's "cancel not
supported") that would be reported as a failed read. ``install`` wraps the manager's
blocking call so that each such cancel is recorded as a stop (``stopping.record``) first:
the command then unwinds and exits as stopped by Ctrl-C. The wrapper also registers the
call's cancel for any stop (``stopping.cancelled_on_stop``): SIGTERM, which the manager
leaves alone, and calls in other threads, where it sets no handler, cancel it too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import adbc_driver_manager.dbapi as adbc_dbapi

from safemirror import stopping

_blocking_call: Callable[..., Any] = adbc_dbapi._blocking_call  # type: ignore[attr-defined]


def _recording_call(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], cancel: Any
) -> Any:
    """The manager's blocking call, with a cancel that records the Ctrl-C behind it."""

    def cancel_on_stop() -> None:
        stopping.record(KeyboardInterrupt())
        cancel()

    with stopping.cancelled_on_stop(cancel):
        return _blocking_call(func, args, kwargs, cancel_on_stop)


def install() -> None:
    """Record the stop behind every cancel of a blocking ADBC call (idempotent)."""
    adbc_dbapi._blocking_call = _recording_call  # type: ignore[attr-defined]

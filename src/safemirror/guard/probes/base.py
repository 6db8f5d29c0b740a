"""The probe base class and the context shared by the probes of one sweep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from safemirror.guard.address import Endpoint, parse_hostport, parse_url
from safemirror.guard.model import Observation
from safemirror.guard.spec import NoSettings, Target

#: Minimum spacing between two default-credential attempts against one host.
CREDENTIAL_SPACING = 0.25

#: The time budget of the probe running in this task (set by the scan). Waiting for a turn
#: at the credential limiter is given back to it: many targets on one host queue there, and
#: the queue must not make a store that lets everyone in look unreachable.
BUDGET: ContextVar[asyncio.Timeout | None] = ContextVar("guard_probe_budget", default=None)


@contextmanager
def _budget_paused() -> Iterator[None]:
    """Stop the running probe's budget clock while it waits for its turn, and restart it
    with what was left."""
    budget = BUDGET.get()
    when = budget.when() if budget is not None else None
    if budget is None or when is None or budget.expired():
        yield
        return
    loop = asyncio.get_running_loop()
    paused = loop.time()
    budget.reschedule(None)
    try:
        yield
    finally:
        budget.reschedule(when + (loop.time() - paused))


class CredentialLimiter:
    """Rate-limits default-credential tries: one at a time per host, spaced apart."""

    def __init__(self, spacing: float = CREDENTIAL_SPACING) -> None:
        self.spacing = spacing
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}
        self.attempts = 0

    @asynccontextmanager
    async def attempt(self, host: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(host, asyncio.Lock())
        with _budget_paused():  # waiting for a turn is not the store's time
            await lock.acquire()
        try:
            wait = self._last.get(host, -1e9) + self.spacing - time.monotonic()
            if wait > 0:
                with _budget_paused():
                    await asyncio.sleep(wait)
            self.attempts += 1
            yield
        finally:
            self._last[host] = time.monotonic()
            lock.release()


@dataclass
class ProbeContext:
    """State shared by the probes of one sweep (or one watch loop)."""

    limiter: CredentialLimiter = field(default_factory=CredentialLimiter)


class Probe:
    """Base of every probe class.

    A subclass declares ``kind`` (the targets-file ``kind:``), ``title``, ``sends`` (what it
    puts on the wire, for the docs), ``default_port``, ``Settings`` (a pydantic schema for
    the entry's ``settings:``), an ``example`` entry and the ``default_credentials`` it may
    try; it implements ``observe``. Probes read metadata only (names and counts), and every
    network step is bounded by the target's ``timeout``.
    """

    kind: ClassVar[str]
    title: ClassVar[str]
    sends: ClassVar[str]
    default_port: ClassVar[int]
    url_address: ClassVar[bool] = False
    Settings: ClassVar[type[BaseModel]] = NoSettings
    example: ClassVar[dict[str, Any]]
    default_credentials: ClassVar[tuple[tuple[str, str], ...]] = ()

    @classmethod
    def parse_address(cls, text: str) -> Endpoint:
        """Validate the entry's ``address`` for this kind (``ValueError`` if bad)."""
        if cls.url_address:
            return parse_url(text, cls.default_port)
        return parse_hostport(text, cls.default_port)

    async def observe(self, target: Target, ctx: ProbeContext, obs: Observation) -> None:
        """Probe ``target``, recording protocol facts into ``obs`` (the scan's) as each is
        established, exposures the moment they are; raise ``ProbeError`` if it cannot go
        on. What ``obs`` holds when a step fails or the budget runs out is reported."""
        raise NotImplementedError

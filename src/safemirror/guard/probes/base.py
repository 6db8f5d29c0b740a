"""The probe base class and the context shared by the probes of one sweep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from safemirror.guard.address import Endpoint, parse_hostport, parse_url
from safemirror.guard.model import Observation
from safemirror.guard.spec import NoSettings, Target

#: Minimum spacing between two default-credential attempts against one host.
CREDENTIAL_SPACING = 0.25


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
        async with lock:
            wait = self._last.get(host, -1e9) + self.spacing - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.attempts += 1
            try:
                yield
            finally:
                self._last[host] = time.monotonic()


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

    async def observe(self, target: Target, ctx: ProbeContext) -> Observation:
        """Probe ``target`` and return protocol facts; raise ``ProbeError`` if it cannot."""
        raise NotImplementedError

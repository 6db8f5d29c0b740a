"""One sweep: probe every target concurrently, each bounded in time, then assess."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from safemirror.guard import discover, per_address, resolve
from safemirror.guard.address import scope_of
from safemirror.guard.assess import assess, state_of
from safemirror.guard.model import Finding, Observation, ProbeError, Severity, State
from safemirror.guard.probes import registry
from safemirror.guard.probes.base import BUDGET, ProbeContext
from safemirror.guard.spec import Target

#: A whole probe (several connections) may take at most this many times the target timeout.
BUDGET_FACTOR = 3
CONCURRENCY = 32


@dataclass
class TargetResult:
    target: Target
    observation: Observation
    findings: list[Finding]
    state: State
    duration: float

    @property
    def severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        return {
            "name": t.name,
            "kind": t.kind,
            "address": t.address,
            "holds": list(t.holds),
            "state": self.state.value,
            "severity": self.severity.label if self.severity is not None else None,
            "duration_ms": round(self.duration * 1000, 1),
            "observation": self.observation.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class ScanResult:
    results: list[TargetResult]
    started: float
    duration: float
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def at_or_above(self, threshold: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity >= threshold]


def _bind(address: str, port: int, found: list[discover.Listener]) -> str | None:
    """Where the target listens on ``address``: from /proc/net for a loopback address,
    else the address's scope."""
    scope = scope_of(address)
    if scope == "loopback":
        return discover.bind_of(port, found) or "loopback"
    return scope if scope in ("public", "private") else None


def stopped_early(obs: Observation, reason: str, *, connected: bool) -> Observation:
    """The outcome of a probe that failed part-way (an error, a malformed reply, the budget
    running out). Fail closed: an exposure it established stands, and so does a settled
    verdict (its store refused it), with the failure as a note; only a probe that
    established neither leaves the target ``unreachable``."""
    if obs.exposures or obs.settled:
        obs.stop_early(reason)
        return obs
    return Observation(reachable=connected, error=reason)


async def _observe(target: Target, ctx: ProbeContext) -> Observation:
    """Run the target's probe within its budget; network trouble is reported in the
    observation, never raised."""
    probe = registry.get(target.kind)()
    budget = target.timeout * BUDGET_FACTOR
    obs = Observation()
    try:
        async with asyncio.timeout(budget) as deadline:
            token = BUDGET.set(deadline)  # the credential limiter gives its queueing back
            try:
                await probe.observe(target, ctx, obs)
            finally:
                BUDGET.reset(token)
    except ProbeError as exc:
        obs = stopped_early(obs, exc.reason, connected=exc.connected)
    except TimeoutError:
        obs = stopped_early(obs, f"no complete answer within {budget:g} s", connected=True)
    except (
        OSError,
        ValueError,
        IndexError,
        KeyError,
        UnicodeError,
        struct.error,
        RecursionError,  # nested without end: JSON, AMQP field tables
    ) as exc:
        # a malformed or hostile reply: report it, never crash the sweep
        reason = f"unexpected answer ({type(exc).__name__})"
        obs = stopped_early(obs, reason, connected=True)
    return obs


async def _observe_at(target: Target, ctx: ProbeContext, address: str) -> Observation:
    """Probe ``target`` with every connection to its host sent to ``address``."""
    with resolve.pinned(target.endpoint.host, address):
        return await _observe(target, ctx)


async def probe_target(
    target: Target, ctx: ProbeContext, found: list[discover.Listener] | None = None
) -> TargetResult:
    """Probe one target at each address its host resolves to (concurrently, each within
    its own budget); never raises for network trouble and never exceeds its budget.

    The observation belongs to the scan and the probe records into it as it goes, so what
    it established survives a later failure."""
    start = time.monotonic()
    host = target.endpoint.host
    try:
        addresses = await resolve.addresses(host, target.timeout)
    except ProbeError as exc:
        obs = Observation(error=exc.reason)
        return TargetResult(
            target, obs, assess(target, obs), State.UNREACHABLE, time.monotonic() - start
        )
    observed = await asyncio.gather(*(_observe_at(target, ctx, a) for a in addresses))
    probed = list(zip(addresses, observed, strict=True))
    for address, obs in probed:
        if obs.error is None and found is not None:
            obs.bind = _bind(address, target.endpoint.port, found)
    if len(probed) > 1:
        obs, findings = per_address.merge(target, probed)
    else:
        (address, obs), findings = probed[0], assess(target, probed[0][1])
        if not resolve.is_ip(host):
            shown = state_of(findings).value if obs.error is None else f"unreachable: {obs.error}"
            obs.addresses = {address: shown}
    return TargetResult(target, obs, findings, state_of(findings), time.monotonic() - start)


async def sweep(
    targets: Sequence[Target], ctx: ProbeContext | None = None, concurrency: int = CONCURRENCY
) -> ScanResult:
    """Probe all targets concurrently (bounded), in the targets' order."""
    ctx = ctx or ProbeContext()
    started, t0 = time.time(), time.monotonic()
    found = discover.listeners()
    gate = asyncio.Semaphore(concurrency)

    async def one(target: Target) -> TargetResult:
        async with gate:
            return await probe_target(target, ctx, found)

    results = list(await asyncio.gather(*(one(t) for t in targets)))
    return ScanResult(
        results, started, time.monotonic() - t0, {"credential_attempts": ctx.limiter.attempts}
    )


def scan(targets: Iterable[Target]) -> ScanResult:
    """Synchronous entry point for one sweep."""
    return asyncio.run(sweep(list(targets)))

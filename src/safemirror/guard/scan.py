"""One sweep: probe every target concurrently, each bounded in time, then assess."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from safemirror.guard import discover
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


async def _bind(target: Target, found: list[discover.Listener]) -> str | None:
    """Where the target listens: from /proc/net for local addresses, else its IP's scope."""
    host = target.endpoint.host
    if host == "localhost":
        ips = ["127.0.0.1"]
    elif scope_of(host) != "unknown":
        ips = [host]
    else:
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM),
                target.timeout,
            )
        except (OSError, TimeoutError):
            return None
        ips = [str(info[4][0]) for info in infos]
    scopes = {scope_of(ip) for ip in ips}
    if scopes == {"loopback"}:
        return discover.bind_of(target.endpoint.port, found) or "loopback"
    for scope in ("public", "private"):
        if scope in scopes:
            return scope
    return None


def stopped_early(obs: Observation, reason: str, *, connected: bool) -> Observation:
    """The outcome of a probe that failed part-way (an error, a malformed reply, the budget
    running out). Fail closed: an exposure it established stands, with the failure as a
    note; only a probe that established none leaves the target ``unreachable``."""
    if obs.exposures:
        obs.notes.append(f"probe stopped early: {reason}")
        return obs
    return Observation(reachable=connected, error=reason)


async def probe_target(
    target: Target, ctx: ProbeContext, found: list[discover.Listener] | None = None
) -> TargetResult:
    """Probe one target; never raises for network trouble and never exceeds its budget.

    The observation belongs to the scan and the probe records into it as it goes, so what
    it established survives a later failure."""
    start = time.monotonic()
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
    except (OSError, ValueError, IndexError, KeyError, UnicodeError, struct.error) as exc:
        # a malformed or hostile reply: report it, never crash the sweep
        reason = f"unexpected answer ({type(exc).__name__})"
        obs = stopped_early(obs, reason, connected=True)
    if obs.error is None and found is not None:
        obs.bind = await _bind(target, found)
    findings = assess(target, obs)
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

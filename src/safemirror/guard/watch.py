"""The watch loop: sweep on a fixed cadence, alert on every change of state, remediate."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from rich.markup import escape

from safemirror.audit import AuditLog
from safemirror.consoles import err_console
from safemirror.guard import discover
from safemirror.guard.alerts import Alert, Dispatcher
from safemirror.guard.metrics import GuardMetrics
from safemirror.guard.model import Severity, State
from safemirror.guard.probes.base import ProbeContext
from safemirror.guard.remediate import remediate
from safemirror.guard.scan import ScanResult, TargetResult, probe_target, sweep
from safemirror.guard.spec import Target
from safemirror.guard.targets import TargetsFile

DEFAULT_INTERVAL = 30.0


@dataclass
class Memory:
    """What the loop remembers of a target between sweeps."""

    state: State
    keys: frozenset[str]  # findings that matter for alerting (above info)
    all_keys: frozenset[str]  # every finding, for the audit trail
    attempts: int = 0  # remediation attempts in the current exposure episode


def transition(prev: Memory | None, state: State, keys: frozenset[str]) -> str | None:
    """The alert event for a new observation, or None when nothing changed."""
    if prev is None:
        return None if state is State.SECURE else state.value
    if prev.state is not state:
        return "resolved" if state is State.SECURE else state.value
    if keys != prev.keys and state is not State.SECURE:
        return "changed"
    return None


class Watcher:
    """Runs sweeps every ``interval`` seconds (start to start) until stopped."""

    def __init__(
        self,
        tfile: TargetsFile,
        *,
        dispatcher: Dispatcher,
        audit: AuditLog,
        metrics: GuardMetrics | None = None,
        interval: float = DEFAULT_INTERVAL,
        remediation: bool = True,
    ) -> None:
        self.tfile, self.dispatcher, self.audit = tfile, dispatcher, audit
        self.metrics = metrics or GuardMetrics()
        self.interval, self.remediation = interval, remediation
        self.ctx = ProbeContext()
        self.memory: dict[str, Memory] = {}
        self.sweeps = 0

    async def run(self, stop: asyncio.Event | None = None, max_sweeps: int | None = None) -> None:
        stop = stop or asyncio.Event()
        self.audit.append(
            "guard.watch",
            {
                "event": "start",
                "targets": len(self.tfile.targets),
                "interval_s": self.interval,
                "targets_file": str(self.tfile.path),
            },
        )
        next_at = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    await self.sweep_once()
                except Exception as exc:  # a guard that dies silently is worse than one error
                    self.sweeps += 1
                    self.on_error(exc)
                if max_sweeps is not None and self.sweeps >= max_sweeps:
                    break
                next_at = max(next_at + self.interval, time.monotonic())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), next_at - time.monotonic())
        finally:
            self.audit.append("guard.watch", {"event": "stop", "sweeps": self.sweeps})

    async def sweep_once(self) -> ScanResult:
        scan = await sweep(self.tfile.targets, self.ctx)
        self.sweeps += 1
        self.metrics.observe_sweep(scan)
        await asyncio.gather(*(self.handle(result) for result in scan.results))
        return scan

    def on_error(self, exc: Exception) -> None:
        """Record an unexpected failure of one sweep; the loop goes on."""
        message = f"{type(exc).__name__}: {exc}"
        self.audit.append("guard.error", {"sweep": self.sweeps, "error": message[:500]})
        err_console.print(
            f"[red]guard sweep {self.sweeps} failed:[/] {escape(message)}", highlight=False
        )

    async def handle(self, result: TargetResult) -> None:
        name = result.target.name
        prev = self.memory.get(name)
        keys = frozenset(f.key for f in result.findings if f.severity > Severity.INFO)
        self._audit_findings(prev, result)
        event = transition(prev, result.state, keys)
        attempts = 0 if result.state is State.SECURE or prev is None else prev.attempts
        self.memory[name] = Memory(
            result.state, keys, frozenset(f.key for f in result.findings), attempts
        )
        if event is not None:
            await self.dispatcher.send(
                Alert.from_result(event, result, prev.state.value if prev else None)
            )
        spec = result.target.remediate
        if (
            self.remediation
            and spec is not None
            and result.state.value in spec.when
            and attempts < spec.max_attempts
        ):
            await self._remediate(result)

    def _audit_findings(self, prev: Memory | None, result: TargetResult) -> None:
        before = prev.all_keys if prev else frozenset()
        for finding in result.findings:
            if finding.key not in before:
                self.audit.append(
                    "guard.finding",
                    {
                        **finding.to_dict(),
                        "address": result.target.address,
                        "state": result.state.value,
                    },
                )
        now = {f.key for f in result.findings}
        for key in sorted(before - now):
            self.audit.append("guard.resolved", {"target": result.target.name, "finding": key})

    async def _reprobe(self, target: Target) -> TargetResult:
        return await probe_target(target, self.ctx, discover.listeners())

    async def _remediate(self, result: TargetResult) -> None:
        outcome = await remediate(result, self._reprobe)
        self.audit.append("guard.remediation", outcome.audit_record())
        self.metrics.count_remediation(outcome.target, outcome.confirmed)
        memory = self.memory[outcome.target]
        memory.attempts += 1
        final = outcome.result
        self._audit_findings(memory, final)
        event = "remediated" if outcome.confirmed else "remediation-failed"
        note = (
            f"ran {outcome.program}; re-probed {outcome.reprobes}x in "
            f"{outcome.duration:.1f} s" + (f"; {outcome.error}" if outcome.error else "")
        )
        self.memory[outcome.target] = Memory(
            final.state,
            frozenset(f.key for f in final.findings if f.severity > Severity.INFO),
            frozenset(f.key for f in final.findings),
            0 if outcome.confirmed else memory.attempts,
        )
        self.metrics.observe_result(final)
        await self.dispatcher.send(Alert.from_result(event, final, memory.state.value, note))

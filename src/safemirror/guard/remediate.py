"""Run a target's declared remediation, then re-probe until the fix is confirmed."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from safemirror.guard.process import CommandFailed, run_command
from safemirror.guard.scan import TargetResult
from safemirror.guard.spec import Target

REPROBE_EVERY = 0.5  # seconds between confirming re-probes

Reprobe = Callable[[Target], Awaitable[TargetResult]]


@dataclass
class RemediationOutcome:
    target: str
    program: str
    error: str | None
    confirmed: bool
    result: TargetResult
    duration: float
    reprobes: int

    def audit_record(self) -> dict[str, Any]:
        """What the audit log keeps: the program's name only, never its arguments."""
        return {
            "target": self.target,
            "kind": self.result.target.kind,
            "program": self.program,
            "error": self.error,
            "confirmed": self.confirmed,
            "state_after": self.result.state.value,
            "reprobes": self.reprobes,
            "duration_s": round(self.duration, 3),
        }


def command_env(result: TargetResult) -> dict[str, str]:
    t = result.target
    return {
        "SAFEMIRROR_TARGET": t.name,
        "SAFEMIRROR_TARGET_KIND": t.kind,
        "SAFEMIRROR_TARGET_ADDRESS": t.address,
        "SAFEMIRROR_TARGET_HOST": t.endpoint.host,
        "SAFEMIRROR_TARGET_PORT": str(t.endpoint.port),
        "SAFEMIRROR_TARGET_STATE": result.state,
        "SAFEMIRROR_FINDINGS": json.dumps([f.to_dict() for f in result.findings]),
    }


async def remediate(result: TargetResult, reprobe: Reprobe) -> RemediationOutcome:
    """Run the command (bounded), then re-probe every 0.5 s until the state leaves the
    triggering set or ``confirm_within`` runs out."""
    target = result.target
    spec = target.remediate
    if spec is None:
        raise ValueError(f"target {target.name} declares no remediation")
    start = time.monotonic()
    error = None
    try:
        await run_command(spec.command, timeout=spec.timeout, env=command_env(result))
    except CommandFailed as exc:
        error = str(exc)
    deadline = time.monotonic() + spec.confirm_within
    latest, reprobes = result, 0
    while True:
        latest = await reprobe(target)
        reprobes += 1
        if latest.state.value not in spec.when or time.monotonic() >= deadline:
            break
        await asyncio.sleep(REPROBE_EVERY)
    confirmed = latest.state.value not in spec.when
    return RemediationOutcome(
        target.name,
        os.path.basename(spec.command[0]),
        error,
        confirmed,
        latest,
        time.monotonic() - start,
        reprobes,
    )

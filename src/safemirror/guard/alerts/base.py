"""The alert sent on every change of a target's state, and the sink interface."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from safemirror.guard.scan import TargetResult

#: Events: a new state (exposed, drift, unreachable), back to secure (resolved), same state
#: with different findings (changed), and remediation outcomes.
EVENTS = (
    "exposed",
    "drift",
    "unreachable",
    "resolved",
    "changed",
    "remediated",
    "remediation-failed",
)


class AlertDeliveryError(Exception):
    """A sink could not deliver an alert (the message never contains a secret)."""


@dataclass(frozen=True)
class Alert:
    event: str
    target: str
    kind: str
    address: str
    holds: tuple[str, ...]
    state: str
    previous: str | None
    severity: str | None
    findings: tuple[dict[str, Any], ...]
    ts: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    note: str | None = None
    addresses: tuple[tuple[str, str], ...] = ()  # a named host's addresses and their states

    @classmethod
    def from_result(
        cls, event: str, result: TargetResult, previous: str | None, note: str | None = None
    ) -> Alert:
        t = result.target
        # a probe that failed part-way: its findings may be incomplete, and the alert says so
        note = "; ".join(n for n in (note, *result.observation.incomplete) if n) or None
        return cls(
            event=event,
            target=t.name,
            kind=t.kind,
            address=t.address,
            holds=t.holds,
            state=result.state.value,
            previous=previous,
            severity=result.severity.label if result.severity is not None else None,
            findings=tuple(f.to_dict() for f in result.findings if f.severity > 0),
            note=note,
            addresses=tuple(result.observation.addresses.items()),
        )

    @property
    def headline(self) -> str:
        worst = next((f["detail"] for f in self.findings), None)
        what = f": {worst}" if worst and self.event != "resolved" else ""
        sev = f" [{self.severity}]" if self.severity and self.event != "resolved" else ""
        return f"{self.event.upper()}{sev} {self.target} ({self.kind} {self.address}){what}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": "safemirror-guard",
            "event": self.event,
            "ts": self.ts,
            "target": self.target,
            "kind": self.kind,
            "address": self.address,
            "holds": list(self.holds),
            "state": self.state,
            "previous_state": self.previous,
            "severity": self.severity,
            "findings": list(self.findings),
            "note": self.note,
            "addresses": dict(self.addresses),
            "summary": self.headline,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


class Sink:
    """Where alerts go. ``channel`` describes it without secrets (for audit and metrics)."""

    kind: str = "sink"
    timeout: float = 10.0

    @property
    def channel(self) -> str:
        return self.kind

    async def send(self, alert: Alert) -> None:
        raise NotImplementedError

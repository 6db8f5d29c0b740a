"""Value types shared by probes, assessment, reports and the watch loop."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from safemirror.errors import UsageError


class Severity(enum.IntEnum):
    """Finding severity; ordered so thresholds compare with ``>=``."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise UsageError(f"unknown severity {text!r}", hint=f"use one of: {names}") from None


class State(enum.StrEnum):
    """The state of one target after a probe; the watch loop alerts on changes."""

    SECURE = "secure"
    EXPOSED = "exposed"  # answers without credentials, or with default ones
    DRIFT = "drift"  # protected, but deviates from its declared baseline
    UNREACHABLE = "unreachable"  # refused, silent, or not speaking the declared protocol


@dataclass(frozen=True)
class Exposure:
    """A fact a probe established that assessment turns into a finding.

    ``check`` is a key of ``assess.CHECKS``; ``detail`` says what was observed and must
    never contain a password, token or document content.
    """

    check: str
    detail: str
    extent: str | None = None  # figures that change (key, database counts): not its identity

    @property
    def text(self) -> str:
        """The detail as reported: with the extent in parentheses when there is one."""
        return f"{self.detail} ({self.extent})" if self.extent else self.detail


#: How the note of a probe that failed part-way begins: what it reports may be incomplete.
STOPPED_EARLY = "probe stopped early: "


@dataclass
class Observation:
    """What a probe learned about one target, protocol facts only."""

    reachable: bool = False
    error: str | None = None
    product: str | None = None
    version: str | None = None
    version_public: bool = False  # disclosed before authentication
    auth_required: bool | None = None
    tls_offered: bool | None = None
    tls_required: bool | None = None
    exposures: list[Exposure] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # names and counts only
    notes: list[str] = field(default_factory=list)
    bind: str | None = None  # "all interfaces", "loopback", "private", "public"
    # the probe's verdict on access is established (e.g. the store refused its default
    # credentials): a later, auxiliary step that fails is noted, never `unreachable`
    settled: bool = False
    # a named host: each address it resolved to, with its state ("secure", "exposed"…,
    # "unreachable: <reason>"); empty for an IP address
    addresses: dict[str, str] = field(default_factory=dict)

    def expose(self, check: str, detail: str, extent: str | None = None) -> Exposure:
        """Record a fact the moment it is established: the scan keeps it even when a later
        step of the probe fails. The same check and detail again only updates its extent."""
        fact = Exposure(check, detail, extent)
        for i, known in enumerate(self.exposures):
            if (known.check, known.detail) == (check, detail):
                self.exposures[i] = fact
                return fact
        self.exposures.append(fact)
        return fact

    def withdraw(self, fact: Exposure | None) -> None:
        """Drop a provisional fact that a later step restates in its final words."""
        if fact is not None and fact in self.exposures:
            self.exposures.remove(fact)

    def stop_early(self, reason: str) -> None:
        """Note that the probe failed part-way (``reason``): the rest was not established."""
        self.notes.append(STOPPED_EARLY + reason)

    @property
    def incomplete(self) -> list[str]:
        """The notes of a probe that failed part-way: shown beside its findings in every
        report format and alert, since what was not established may be worse."""
        return [note for note in self.notes if note.startswith(STOPPED_EARLY)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "reachable": self.reachable,
            "error": self.error,
            "product": self.product,
            "version": self.version,
            "version_public": self.version_public,
            "auth_required": self.auth_required,
            "tls_offered": self.tls_offered,
            "tls_required": self.tls_required,
            "bind": self.bind,
            "addresses": self.addresses,
            "metadata": self.metadata,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Finding:
    """One assessed problem of one target."""

    target: str
    kind: str
    check: str
    rule: str
    title: str
    detail: str
    severity: Severity
    subject: str | None = None  # the detail without figures that change between sweeps

    @property
    def key(self) -> str:
        """Stable identity across sweeps (used to report new and resolved findings): a store
        that gains keys or databases is the same finding, not a new one."""
        return f"{self.target}:{self.check}:{self.subject or self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "check": self.check,
            "rule": self.rule,
            "title": self.title,
            "detail": self.detail,
            "severity": self.severity.label,
        }


class ProbeError(Exception):
    """Raised inside probes. The scan keeps what the probe established before it (noting
    that the probe stopped early), or reports the target ``unreachable`` when that is
    nothing."""

    def __init__(self, reason: str, *, connected: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.connected = connected

"""Turn a probe's facts into findings: checks, baseline comparison, severity by data held."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from safemirror.guard.model import Exposure, Finding, Observation, Severity, State
from safemirror.guard.spec import Target

#: Labels in ``holds`` that make a store's exposure critical.
SENSITIVE = frozenset(
    {"pii", "secrets", "credentials", "tokens", "phi", "health", "financial", "payment"}
)
PUBLIC = frozenset({"public", "none"})


@dataclass(frozen=True)
class Check:
    """A kind of finding: its SARIF rule id, title, impact class and the state it implies."""

    rule: str
    title: str
    impact: str
    state: State | None
    help: str


CHECKS: dict[str, Check] = {
    "no-auth": Check(
        "SMG001",
        "Answers without credentials",
        "access",
        State.EXPOSED,
        "Turn authentication on; bind to loopback or a private network.",
    ),
    "default-credentials": Check(
        "SMG002",
        "Accepts well-known default credentials",
        "access",
        State.EXPOSED,
        "Remove or re-key the default account.",
    ),
    "anonymous-limited": Check(
        "SMG003",
        "Accepts anonymous clients with limited rights",
        "limited",
        State.DRIFT,
        "Disable anonymous access unless the store is meant to be public.",
    ),
    "tls": Check(
        "SMG004",
        "TLS not enforced",
        "transport",
        State.DRIFT,
        "Enable TLS and refuse plaintext connections.",
    ),
    "listen": Check(
        "SMG005",
        "Listens beyond its allowed scope",
        "transport",
        State.DRIFT,
        "Bind to loopback or the private interface only.",
    ),
    "version-drift": Check(
        "SMG006",
        "Version differs from the baseline",
        "drift",
        State.DRIFT,
        "Upgrade, or update expect.version after review.",
    ),
    "version-disclosed": Check(
        "SMG007",
        "Discloses its version before authentication",
        "info",
        None,
        "Informational: attackers match versions to known vulnerabilities.",
    ),
    "unreachable": Check(
        "SMG008",
        "Unreachable or not speaking its protocol",
        "availability",
        State.UNREACHABLE,
        "Check that the store is up and that the targets file is right.",
    ),
}

#: Severity by impact for data levels (public, unknown/internal, sensitive).
IMPACT: dict[str, tuple[Severity, Severity, Severity]] = {
    "access": (Severity.LOW, Severity.HIGH, Severity.CRITICAL),
    "limited": (Severity.LOW, Severity.MEDIUM, Severity.HIGH),
    "transport": (Severity.LOW, Severity.MEDIUM, Severity.HIGH),
    "drift": (Severity.LOW, Severity.LOW, Severity.LOW),
    "info": (Severity.INFO, Severity.INFO, Severity.INFO),
    "availability": (Severity.LOW, Severity.LOW, Severity.LOW),
}

_STATE_ORDER = (State.EXPOSED, State.DRIFT, State.UNREACHABLE)


def data_level(holds: Iterable[str]) -> int:
    """2 = sensitive (pii…), 0 = public only, 1 = anything else (internal, unknown, unset)."""
    labels = {h.lower() for h in holds}
    if labels & SENSITIVE:
        return 2
    if labels and labels <= PUBLIC:
        return 0
    return 1


def severity(check: str, holds: Iterable[str]) -> Severity:
    return IMPACT[CHECKS[check].impact][data_level(holds)]


def _baseline(target: Target, obs: Observation) -> list[Exposure]:
    expect, out = target.expect, []
    if expect.tls == "required" and obs.tls_required is False:
        what = "TLS not offered" if obs.tls_offered is False else "accepts plaintext connections"
        out.append(Exposure("tls", f"{what} (expect.tls: required)"))
    allowed = {"loopback": {"loopback"}, "private": {"loopback", "private"}}.get(expect.listen)
    if allowed is not None and obs.bind is not None and obs.bind not in allowed:
        out.append(Exposure("listen", f"listens on {obs.bind} (expect.listen: {expect.listen})"))
    if expect.version and obs.version and not obs.version.startswith(expect.version):
        out.append(Exposure("version-drift", f"runs {obs.version}, baseline {expect.version}"))
    if obs.version and obs.version_public:
        product = f"{obs.product} " if obs.product else ""
        out.append(Exposure("version-disclosed", f"{product}{obs.version}"))
    return out


def _subject(fact: Exposure) -> str | None:
    """What identifies a finding across sweeps when its detail does not: the detail without
    its moving figures; for ``unreachable``, nothing of the reason (refused one sweep,
    silent the next), so a store that stays down is one finding, not a new one a sweep."""
    if fact.check == "unreachable":
        return "unreachable"
    return fact.detail if fact.extent else None


def assess(target: Target, obs: Observation) -> list[Finding]:
    """Findings for one target, most severe first."""
    if obs.error is not None:
        facts = [Exposure("unreachable", obs.error)]
    else:
        facts = [
            e
            for e in obs.exposures
            if not (target.expect.auth == "none" and e.check in {"no-auth", "anonymous-limited"})
        ]
        facts += _baseline(target, obs)
    findings = [
        Finding(
            target.name,
            target.kind,
            e.check,
            CHECKS[e.check].rule,
            CHECKS[e.check].title,
            e.text,
            severity(e.check, target.holds),
            _subject(e),
        )
        for e in facts
    ]
    return sorted(findings, key=lambda f: (-f.severity, f.rule))


def state_of(findings: Iterable[Finding]) -> State:
    states = {CHECKS[f.check].state for f in findings}
    for state in _STATE_ORDER:
        if state in states:
            return state
    return State.SECURE

"""One target's verdict from the probes of each address its name resolves to.

Every address is assessed: a replica that answers without credentials behind a
round-robin name must not hide behind one that refuses. A finding seen on every address
that answered is reported once, as is; one seen on some of them only names the address
(``on 10.0.0.2: answers INFO without AUTH``). An address that does not answer while
another does is a note, not a finding (``localhost`` resolving to ``::1`` as well, for a
store bound to 127.0.0.1 only); the target is ``unreachable`` only when none answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from safemirror.guard.assess import assess, state_of
from safemirror.guard.model import STOPPED_EARLY, Finding, Observation, State
from safemirror.guard.spec import Target

_WORST_FIRST = (State.EXPOSED, State.DRIFT, State.SECURE)


def _at(address: str, finding: Finding) -> Finding:
    return dataclasses.replace(
        finding,
        detail=f"on {address}: {finding.detail}",
        subject=f"on {address}: {finding.subject}" if finding.subject else None,
    )


def _note_at(address: str, note: str) -> str:
    if note.startswith(STOPPED_EARLY):
        return f"{STOPPED_EARLY}on {address}: {note[len(STOPPED_EARLY) :]}"
    return f"on {address}: {note}"


def _identity(finding: Finding) -> tuple[str, str]:
    return finding.check, finding.subject or finding.detail


def merge(
    target: Target, probed: Sequence[tuple[str, Observation]]
) -> tuple[Observation, list[Finding]]:
    """The observation and findings of ``target`` from its addresses' observations (each
    with ``bind`` set already), in resolver order."""
    assessed = [(address, obs, assess(target, obs)) for address, obs in probed]
    states = {
        address: (state_of(found).value if obs.error is None else f"unreachable: {obs.error}")
        for address, obs, found in assessed
    }
    answered = [item for item in assessed if item[1].error is None]
    if not answered:
        reasons = "; ".join(f"{address}: {obs.error}" for address, obs, _ in assessed)
        reachable = any(obs.reachable for _, obs, _ in assessed)
        merged = Observation(reachable=reachable, error=f"no address answered ({reasons})")
        merged.addresses = states
        return merged, assess(target, merged)

    everywhere = set.intersection(*({_identity(f) for f in found} for _, _, found in answered))
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for address, _, found in answered:
        for finding in found:
            key = _identity(finding)
            if key not in everywhere:
                findings.append(_at(address, finding))
            elif key not in seen:
                seen.add(key)
                findings.append(finding)
    findings.sort(key=lambda f: (-f.severity, f.rule))

    def rank(item: tuple[str, Observation, list[Finding]]) -> int:
        return _WORST_FIRST.index(state_of(item[2]))

    _, worst, _ = min(answered, key=rank)  # its product and version stand for the target
    merged = dataclasses.replace(worst, notes=[], exposures=[], metadata=dict(worst.metadata))
    for address, obs, _ in assessed:
        if obs.error is not None:
            merged.notes.append(f"{address} did not answer: {obs.error}")
            continue
        merged.notes.extend(_note_at(address, note) for note in obs.notes)
        merged.exposures.extend(obs.exposures)
    if len(answered) > 1:
        merged.metadata["by_address"] = {address: obs.metadata for address, obs, _ in answered}
    merged.addresses = states
    return merged, findings

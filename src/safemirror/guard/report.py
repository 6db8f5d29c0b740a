"""Render a sweep as a table, JSON or SARIF 2.1.0."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.table import Table
from rich.text import Text

from safemirror import __version__
from safemirror.guard.assess import CHECKS
from safemirror.guard.model import Severity, State
from safemirror.guard.scan import ScanResult, TargetResult

FORMATS = ("table", "json", "sarif")
STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
STATE_STYLE = {
    State.EXPOSED: "bold red",
    State.DRIFT: "yellow",
    State.UNREACHABLE: "magenta",
    State.SECURE: "green",
}
SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def summary(scan: ScanResult, threshold: Severity) -> dict[str, Any]:
    states = {s.value: 0 for s in State}
    for result in scan.results:
        states[result.state.value] += 1
    return {
        "targets": len(scan.results),
        "states": states,
        "findings": len(scan.findings),
        "threshold": threshold.label,
        "at_or_above_threshold": len(scan.at_or_above(threshold)),
        "duration_s": round(scan.duration, 3),
    }


def to_json(scan: ScanResult, threshold: Severity) -> str:
    return json.dumps(
        {
            "tool": f"safemirror-guard {__version__}",
            "generated": datetime.fromtimestamp(scan.started, UTC).isoformat(),
            "summary": summary(scan, threshold),
            "targets": [r.to_dict() for r in scan.results],
        },
        indent=2,
    )


def to_sarif(scan: ScanResult, targets_path: Path) -> str:
    rules = [
        {
            "id": c.rule,
            "name": name,
            "shortDescription": {"text": c.title},
            "help": {"text": c.help},
        }
        for name, c in CHECKS.items()
    ]
    index = {c.rule: i for i, c in enumerate(CHECKS.values())}
    uri = artifact_uri(targets_path)
    results, notifications = [], []
    for result in scan.results:
        location = _location(result, uri)
        incomplete = result.observation.incomplete
        for note in incomplete:  # the probe failed part-way: say so even without findings
            notifications.append(
                {
                    "level": "warning",
                    "message": {"text": f"{result.target.name} ({result.target.address}): {note}"},
                    "locations": [location],
                }
            )
        for f in result.findings:
            properties: dict[str, Any] = {
                "severity": f.severity.label,
                "security-severity": SECURITY_SEVERITY[f.severity],
            }
            if incomplete:
                properties["notes"] = incomplete
            if result.observation.addresses:
                properties["addresses"] = result.observation.addresses
            results.append(
                {
                    "ruleId": f.rule,
                    "ruleIndex": index[f.rule],
                    "level": SARIF_LEVEL[f.severity],
                    "message": {
                        "text": f"{f.target} ({result.target.address}): {f.title.lower()}"
                        f" — {f.detail}"
                    },
                    "locations": [location],
                    "partialFingerprints": {"guardFinding/v1": f.key},
                    "properties": properties,
                }
            )
    return json.dumps(
        {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "safemirror-guard",
                            "version": __version__,
                            "rules": rules,
                        }
                    },
                    "invocations": [
                        {
                            "executionSuccessful": True,
                            "toolExecutionNotifications": notifications,
                        }
                    ],
                    "results": results,
                }
            ],
        },
        indent=2,
    )


def artifact_uri(path: Path) -> str:
    """The targets file as a SARIF ``artifactLocation.uri`` (an RFC 3986 URI reference): a
    space, ``#``, ``?``, ``%`` or a colon in its name is percent-encoded, so no reader
    takes part of the name for a fragment, a query or a scheme."""
    return quote(path.as_posix(), safe="/")


def _location(result: TargetResult, uri: str) -> dict[str, Any]:
    """Where a target is declared: the targets file (and its line) and the store itself."""
    t = result.target
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri}},
        "logicalLocations": [
            {"name": t.name, "kind": "resource", "fullyQualifiedName": f"{t.kind}:{t.address}"}
        ],
    }
    if t.line:
        location["physicalLocation"]["region"] = {"startLine": t.line}
    return location


def _address_cell(result: TargetResult) -> Text:
    """The target's address and, for a name, each address it resolved to (with its state
    when there are several)."""
    cell = Text(result.target.address)
    probed = result.observation.addresses
    for address, state in probed.items():
        shown = f" {state.partition(':')[0]}" if len(probed) > 1 else ""
        cell.append(f"\n→ {address}{shown}", style="dim")
    return cell


def print_table(scan: ScanResult, threshold: Severity, console: Console) -> None:
    table = Table(title="safemirror guard scan", show_lines=True)
    for column in ("target", "kind", "address", "state", "findings", "version", "ms"):
        table.add_column(column, justify="right" if column == "ms" else "left")
    for result in scan.results:
        lines = Text()
        for f in result.findings:
            if lines:
                lines.append("\n")
            lines.append(f"{f.severity.label}: ", style=STYLE[f.severity])
            lines.append(f.detail)
        obs = result.observation
        for note in obs.incomplete:  # what it reports may be incomplete
            if lines:
                lines.append("\n")
            lines.append(f"note: {note}", style="magenta")
        version = " ".join(x for x in (obs.product, obs.version) if x) if obs.version else ""
        table.add_row(  # names, addresses and banners are plain text, never markup
            Text(result.target.name),
            Text(result.target.kind),
            _address_cell(result),
            Text(result.state.value, style=STATE_STYLE[result.state]),
            lines or "—",
            Text(version),
            f"{result.duration * 1000:.0f}",
        )
    console.print(table)
    info = summary(scan, threshold)
    states = ", ".join(f"{n} {s}" for s, n in info["states"].items() if n)
    console.print(
        f"{info['targets']} targets ({states}) in {info['duration_s']:.2f} s; "
        f"{info['at_or_above_threshold']} findings at or above {threshold.label}"
    )

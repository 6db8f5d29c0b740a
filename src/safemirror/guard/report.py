"""Render a sweep as a table, JSON or SARIF 2.1.0."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from safemirror import __version__
from safemirror.guard.assess import CHECKS
from safemirror.guard.model import Severity, State
from safemirror.guard.scan import ScanResult

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
    uri = targets_path.as_posix()
    results = []
    for result in scan.results:
        for f in result.findings:
            location: dict[str, Any] = {
                "physicalLocation": {"artifactLocation": {"uri": uri}},
                "logicalLocations": [
                    {
                        "name": f.target,
                        "kind": "resource",
                        "fullyQualifiedName": f"{f.kind}:{result.target.address}",
                    }
                ],
            }
            if result.target.line:
                location["physicalLocation"]["region"] = {"startLine": result.target.line}
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
                    "properties": {
                        "severity": f.severity.label,
                        "security-severity": SECURITY_SEVERITY[f.severity],
                    },
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
                    "results": results,
                }
            ],
        },
        indent=2,
    )


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
        version = " ".join(x for x in (obs.product, obs.version) if x) if obs.version else ""
        table.add_row(  # names, addresses and banners are plain text, never markup
            Text(result.target.name),
            Text(result.target.kind),
            Text(result.target.address),
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

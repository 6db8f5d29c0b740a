"""``safemirror audit``: inspect and verify the hash-chained audit log."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from safemirror.audit import AuditLog
from safemirror.consoles import console, emit
from safemirror.errors import AuditError

audit_app = typer.Typer(
    help="Inspect and verify the tamper-evident audit log.", no_args_is_help=True
)

DEFAULT_LOG = Path("safemirror-audit.jsonl")


def _log_path(path: Path | None) -> Path:
    if path is not None:
        return path
    from safemirror.config import find_audit_path

    return find_audit_path()


@audit_app.command("verify")
def verify_cmd(
    log: Path | None = typer.Option(
        None, "--log", help="Audit log file (default: from the config)."
    ),
) -> None:
    """Verify the hash chain; exit 7 if any line was edited, removed, reordered or cut off."""
    audit = AuditLog(_log_path(log))
    report = audit.verify()
    if not report.ok:
        where = f" at line {report.line}" if report.line else ""
        raise AuditError(
            f"audit log {audit.path} is NOT intact{where}: {report.problem}",
            hint="restore it from a backup and investigate who changed it",
        )
    console.print(escape(f"audit log {audit.path}: {report.entries} entries, chain intact"))


@audit_app.command("show")
def show_cmd(
    log: Path | None = typer.Option(
        None, "--log", help="Audit log file (default: from the config)."
    ),
    last: int = typer.Option(20, "--last", min=1, help="How many of the newest entries."),
    kind: str | None = typer.Option(None, "--kind", help="Only entries of this kind."),
) -> None:
    """Print the newest entries as JSON lines."""
    entries = [e for e in AuditLog(_log_path(log)).entries() if kind is None or e.kind == kind]
    for entry in entries[-last:]:
        emit(
            json.dumps(
                {"seq": entry.seq, "ts": entry.ts, "kind": entry.kind, "data": entry.data},
                sort_keys=True,
            )
        )


def register(root: typer.Typer) -> None:
    root.add_typer(audit_app, name="audit")

"""``safemirror sync`` and ``safemirror verify``."""

from __future__ import annotations

from pathlib import Path

import duckdb
import typer
from rich.markup import escape
from rich.table import Table

from safemirror.audit import AuditLog
from safemirror.config import ProjectConfig, load_config, source_url
from safemirror.consoles import console
from safemirror.errors import ConfigError, LeakError
from safemirror.mirror.manifest import open_read_only, unreadable
from safemirror.sources.registry import open_source
from safemirror.stopping import stops_unwind
from safemirror.sync.progress import sync_progress
from safemirror.sync.run import SyncResult, run_sync
from safemirror.verify import VerifyReport, verify_connection

CONFIG_OPTION = typer.Option(
    None, "--config", "-c", help="Project file (default ./safemirror.yaml)."
)


def print_result(result: SyncResult) -> None:
    """A table of what each mirrored table received."""
    table = Table(title=f"sync {result.manifest.mode} — {result.elapsed_s:.2f} s")
    for header in ("table", "rows read", "written", "left", "in mirror"):
        table.add_column(header, justify="left" if header == "table" else "right")
    for name, outcome in result.tables.items():
        table.add_row(
            escape(name),
            f"{outcome.rows_read:,}",
            f"{outcome.rows_written:,}",
            f"{outcome.rows_left:,}",
            f"{outcome.rows_in_mirror:,}",
        )
    console.print(table)
    console.print(
        f"verified: {escape(result.verify.summary())}; "
        f"key fingerprint {result.manifest.key_fingerprint}"
    )
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")


def sync_command(
    config: Path | None = CONFIG_OPTION,
    full: bool = typer.Option(False, "--full", help="Rebuild every table from scratch."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Show no progress."),
) -> None:
    """Copy production into the mirror through the policy (incremental after the first run)."""
    project = load_config(config)
    with stops_unwind():
        result = _sync(project, full=full, quiet=quiet)
    print_result(result)


def _sync(project: ProjectConfig, *, full: bool, quiet: bool) -> SyncResult:
    """``run_sync``, showing its progress unless ``quiet``."""
    if quiet:
        return run_sync(project, full=full)
    with sync_progress() as report:
        return run_sync(project, full=full, progress=report)


def verify_command(config: Path | None = CONFIG_OPTION) -> None:
    """Prove the live mirror holds no sensitive production value (exit 4 if it does)."""
    project = load_config(config)
    if not project.mirror.exists():
        raise ConfigError(
            f"there is no mirror at {project.mirror} yet", hint="run 'safemirror sync' first"
        )
    with stops_unwind():
        report = _verified(project)
    AuditLog(project.audit_log).append(
        "verify",
        {
            "mirror": str(project.mirror),
            "ok": report.ok,
            "findings": [f.__dict__ for f in report.findings],
            "production_columns": report.production_columns,
            "matched_values": report.matched_values,
        },
    )
    if not report.ok:
        raise LeakError(
            f"the mirror {project.mirror} holds sensitive values\n" + report.describe(),
            hint="fix the policy for the columns named above and run 'safemirror sync --full'",
        )
    console.print(escape(f"mirror {project.mirror}: clean — {report.summary()}"))


def _verified(project: ProjectConfig) -> VerifyReport:
    """The live mirror of ``project`` checked against its source."""
    source = open_source(source_url(project))
    try:
        con = open_read_only(project.mirror)
        try:
            return verify_connection(con, source, project.policy, source.tables())
        except duckdb.Error as exc:  # a file that opens, with blocks that do not read
            raise unreadable(project.mirror, exc) from None
        finally:
            con.close()
    finally:
        source.close()


def register(root: typer.Typer) -> None:
    root.command("sync")(sync_command)
    root.command("verify")(verify_command)

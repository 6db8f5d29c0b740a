"""``safemirror guard``: scan, discover, watch, probes, validate.

Exit codes: 0 nothing at or above ``--fail-on``; 8 (``ExitCode.FINDINGS``) findings at or
above it; 2 bad targets file or options; 1 internal error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from safemirror.audit import AuditLog
from safemirror.consoles import emit
from safemirror.errors import ExitCode, Terminated, UsageError
from safemirror.guard import discover as discover_mod
from safemirror.guard import report
from safemirror.guard import targets as targets_mod
from safemirror.guard.address import is_loopback_host, parse_hostport
from safemirror.guard.alerts import Dispatcher, build_sinks
from safemirror.guard.metrics import GuardMetrics, MetricsServer
from safemirror.guard.model import Severity
from safemirror.guard.probes import registry
from safemirror.guard.scan import ScanResult, scan
from safemirror.guard.spec import CommandSpec, WebhookSpec
from safemirror.guard.watch import DEFAULT_INTERVAL, Watcher
from safemirror.private_file import open_private

guard_app = typer.Typer(
    help="Probe data stores from outside; watch them, alert and remediate.",
    no_args_is_help=True,
)


def console() -> Console:
    """A console made per command, so width and colour follow the current environment."""
    return Console()


def err_console() -> Console:
    return Console(stderr=True)


DEFAULT_AUDIT = Path("safemirror-audit.jsonl")
TARGETS_HELP = "Targets file (YAML): see docs/guard.md."
AUDIT_HELP = "Audit log (hash-chained JSON lines)."


def register(root: typer.Typer) -> None:
    """Add ``guard`` to the root command line."""
    root.add_typer(guard_app, name="guard")


def audit_scan(
    audit: AuditLog, tfile: targets_mod.TargetsFile, result: ScanResult, threshold: Severity
) -> None:
    for r in result.results:
        for f in r.findings:
            audit.append(
                "guard.finding",
                {**f.to_dict(), "address": r.target.address, "state": r.state.value},
            )
    audit.append(
        "guard.scan", {"targets_file": str(tfile.path), **report.summary(result, threshold)}
    )


def _check_output(output: Path) -> None:
    """Refuse, before anything is probed, a report path that cannot be written."""
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory", hint="name a file to write")
    if not output.parent.is_dir():
        raise UsageError(
            f"--output {output}: directory {output.parent} does not exist",
            hint="create it, or name a file in an existing directory",
        )
    if not os.access(output if output.exists() else output.parent, os.W_OK):
        raise UsageError(f"--output {output} cannot be written (permission denied)")


def _write_report(output: Path, write: Callable[[TextIO], None]) -> None:
    try:
        with open_private(output) as handle:
            write(handle)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {output}: {exc.strerror}") from None


@guard_app.command("scan")
def scan_cmd(
    targets: Path = typer.Option(..., "--targets", "-t", help=TARGETS_HELP),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or sarif."),
    fail_on: str = typer.Option(
        "high", "--fail-on", help="Exit 8 if a finding is at or above this severity."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report here."),
    audit_log: Path = typer.Option(DEFAULT_AUDIT, "--audit-log", help=AUDIT_HELP),
) -> None:
    """One sweep of every target; exit 8 when findings reach --fail-on."""
    threshold = Severity.parse(fail_on)
    if fmt not in report.FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint="use table, json or sarif")
    if output:
        _check_output(output)
    tfile = targets_mod.load(targets)
    result = scan(tfile.targets)
    audit_scan(AuditLog(audit_log), tfile, result, threshold)
    if fmt == "table" and output:  # a report naming exposed stores: for its owner only
        _write_report(
            output,
            lambda handle: report.print_table(result, threshold, Console(file=handle, width=160)),
        )
    elif fmt == "table":
        report.print_table(result, threshold, console())
    else:
        text = (
            report.to_json(result, threshold)
            if fmt == "json"
            else report.to_sarif(result, tfile.path)
        )
        if output:
            _write_report(output, lambda handle: print(text, file=handle))
        else:
            emit(text)
    if result.at_or_above(threshold):
        raise typer.Exit(ExitCode.FINDINGS)


@guard_app.command("discover")
def discover_cmd(
    targets: Path | None = typer.Option(
        None, "--targets", "-t", help="Leave out sockets this file already covers."
    ),
    fmt: str = typer.Option(
        "table", "--format", "-f", help="table, json, or yaml (a targets-file fragment)."
    ),
    include_unknown: bool = typer.Option(False, "--all", help="Also list unknown ports."),
) -> None:
    """List this host's listening sockets that look like data stores and are not targets."""
    if fmt not in {"table", "json", "yaml"}:
        raise UsageError(f"unknown format {fmt!r}", hint="use table, json or yaml")
    known = targets_mod.load(targets).targets if targets else []
    found = discover_mod.discover(known, include_unknown=include_unknown)
    if fmt == "json":
        emit(json.dumps([{**c.__dict__, "address": c.address} for c in found], indent=2))
    elif fmt == "yaml":
        entries = discover_mod.fragment(found, registry.kinds(), (t.name for t in known))
        emit(yaml.safe_dump({"targets": entries}, sort_keys=False))
    else:
        table = Table(title="listening sockets not covered by the targets file")
        for column in ("address", "looks like", "bound to", "owner", "process"):
            table.add_column(column)
        for c in found:
            style = "bold red" if c.scope in {"all interfaces", "public"} else ""
            table.add_row(  # a process names itself: nothing of it is read as markup
                escape(c.address),
                escape(c.kind),
                Text(c.scope, style=style),
                escape(c.owner),
                escape(c.process or "?"),
            )
        out = console()
        out.print(table)
        out.print(f"{len(found)} uncovered listener(s)")


def _metrics_endpoint(text: str) -> tuple[str, int] | None:
    if text.lower() in {"off", "none", ""}:
        return None
    try:
        ep = parse_hostport(text, 9464)
    except ValueError as exc:
        raise UsageError(f"--metrics: {exc}", hint="use HOST:PORT or off") from None
    if not is_loopback_host(ep.host):
        err_console().print(
            "[yellow]warning:[/] /metrics reveals which stores are exposed; "
            "keep it off public interfaces"
        )
    return ep.host, ep.port


@guard_app.command("watch")
def watch_cmd(
    targets: Path = typer.Option(..., "--targets", "-t", help=TARGETS_HELP),
    interval: float = typer.Option(
        DEFAULT_INTERVAL, "--interval", "-i", min=0.5, help="Seconds between sweep starts."
    ),
    audit_log: Path = typer.Option(DEFAULT_AUDIT, "--audit-log", help=AUDIT_HELP),
    metrics: str = typer.Option(
        "127.0.0.1:9464", "--metrics", help="Prometheus /metrics listen address, or 'off'."
    ),
    webhook: list[str] = typer.Option([], "--webhook", help="Also POST alerts to this URL."),
    alert_command: str | None = typer.Option(
        None, "--alert-command", help="Also run this command per alert."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No alerts on stdout."),
    json_alerts: bool = typer.Option(False, "--json", help="Alerts on stdout as JSON lines."),
    no_remediate: bool = typer.Option(
        False, "--no-remediate", help="Alert only; skip declared remediations."
    ),
    max_sweeps: int | None = typer.Option(None, "--max-sweeps", hidden=True),
) -> None:
    """Sweep continuously; alert on every change of state; remediate if declared."""
    tfile = targets_mod.load(targets)
    try:
        extra_hooks = [WebhookSpec(url=u) for u in webhook]
        extra_cmds = (
            [CommandSpec.model_validate({"command": alert_command})] if alert_command else []
        )
    except ValueError as exc:
        raise UsageError(f"bad --webhook or --alert-command: {exc}") from None
    alerts = tfile.alerts.model_copy(
        update={
            "webhook": [*tfile.alerts.webhook, *extra_hooks],
            "command": [*tfile.alerts.command, *extra_cmds],
        }
    )
    audit = AuditLog(audit_log)
    gauges = GuardMetrics()
    sinks = build_sinks(
        alerts, console=console(), stdout=False if quiet else None, as_json=json_alerts
    )
    watcher = Watcher(
        tfile,
        dispatcher=Dispatcher(sinks, audit, gauges),
        audit=audit,
        metrics=gauges,
        interval=interval,
        remediation=not no_remediate,
    )
    listen = _metrics_endpoint(metrics)

    async def main() -> None:
        server = MetricsServer(gauges, *listen) if listen else None
        if server is not None:
            try:
                await server.start()
            except OSError as exc:
                raise UsageError(
                    f"cannot listen for /metrics on {metrics}: {exc.strerror}",
                    hint="pick another --metrics address or use --metrics off",
                ) from None
            err_console().print(f"metrics on http://{server.host}:{server.port}/metrics")
        err_console().print(
            f"watching {len(tfile.targets)} targets every {interval:g} s "
            f"({len(sinks)} alert sinks); Ctrl-C to stop"
        )
        try:
            with _stopped_by_sigterm() as stop:
                await watcher.run(stop, max_sweeps=max_sweeps)
        finally:
            if server is not None:
                await server.stop()

    asyncio.run(main())


@contextlib.contextmanager
def _stopped_by_sigterm() -> Iterator[asyncio.Event]:
    """An event SIGTERM sets (a service manager stopping the watch): the sweep under way
    ends, its alerts go out and the audit log records the stop; leaving then raises
    ``Terminated``. A second SIGTERM cancels the sweep at once."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    stop = asyncio.Event()

    def terminate() -> None:
        if stop.is_set() and task is not None:
            task.cancel()
        stop.set()

    try:
        loop.add_signal_handler(signal.SIGTERM, terminate)
    except NotImplementedError:  # a loop without signal handlers: SIGTERM stays as it is
        yield stop
        return
    try:
        yield stop
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    if stop.is_set():
        raise Terminated()


@guard_app.command("probes")
def probes_cmd(kind: str | None = typer.Argument(None, help="Show one kind in detail.")) -> None:
    """List the probe kinds, or show one kind's settings schema and example."""
    if kind is None:
        table = Table(title="guard probe kinds")
        for column in ("kind", "what", "default port", "default credentials tried"):
            table.add_column(column)
        for probe in registry.all_probes():
            users = ", ".join(repr(u) for u, _ in probe.default_credentials) or "none"
            table.add_row(probe.kind, probe.title, str(probe.default_port), users)
        console().print(table)
        return
    try:
        probe = registry.get(kind)
    except KeyError:
        raise UsageError(
            f"unknown kind {kind!r}", hint="known: " + ", ".join(registry.kinds())
        ) from None
    console().print(
        f"[bold]{probe.kind}[/] — {escape(probe.title)}\n\nsends: {escape(probe.sends)}\n"
    )
    console().print("settings schema:")
    emit(json.dumps(probe.Settings.model_json_schema(), indent=2))
    console().print("\nexample entry:")
    emit(yaml.safe_dump({"targets": [probe.example]}, sort_keys=False))


@guard_app.command("validate")
def validate_cmd(targets: Path = typer.Option(..., "--targets", "-t", help=TARGETS_HELP)) -> None:
    """Validate a targets file without probing anything."""
    tfile = targets_mod.load(targets)
    console().print(escape(f"{tfile.path}: {len(tfile.targets)} targets valid"), soft_wrap=True)

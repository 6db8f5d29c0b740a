"""``safemirror metrics [NAME]``: list the metrics, or compute one on the mirror."""

from __future__ import annotations

import getpass
import json
import os
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import cast

import duckdb
import typer

from safemirror.audit import AuditLog
from safemirror.config import load_config
from safemirror.consoles import console, emit
from safemirror.metrics.compute import compute, latest_day
from safemirror.metrics.mirror import MirrorMissing, connect_read_only
from safemirror.metrics.periods import Grain, MetricQuery, parse_day, query_range
from safemirror.metrics.registry import all_metrics, get_metric
from safemirror.metrics.render import as_csv, as_json, as_table, metrics_table
from safemirror.mirror.manifest import unreadable

metrics_app = typer.Typer(help="Business metrics over the mirror, with small-cell suppression.")


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@metrics_app.command("metrics")
def metrics_command(
    name: str | None = typer.Argument(None, help="Metric to compute; omit to list them."),
    start: str | None = typer.Option(
        None, "--from", help="First day, YYYY-MM-DD (default: twelve months before --to)."
    ),
    end: str | None = typer.Option(
        None, "--to", help="Last day, inclusive (default: the latest day in the mirror)."
    ),
    grain: str = typer.Option("month", "--grain", help="day, week or month."),
    by: str | None = typer.Option(None, "--by", help="Break down by this dimension."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Project file (default ./safemirror.yaml)."
    ),
) -> None:
    """Compute a metric on the mirror (cells of fewer than server.min_cell users withheld)."""
    if name is None:
        metrics = all_metrics()
        if fmt is Format.table:
            console.print(metrics_table(metrics))
        else:
            emit(json.dumps([m.describe() for m in metrics], indent=2))
        return
    metric = get_metric(name)
    project = load_config(config)
    if not project.mirror.exists():
        raise MirrorMissing(
            f"the mirror {project.mirror} does not exist yet", hint="run 'safemirror sync' first"
        )
    con = connect_read_only(project.mirror, memory_limit=project.server.memory_limit)
    try:
        first, last = query_range(
            parse_day(start, "--from") if start else None,
            parse_day(end, "--to") if end else None,
            lambda: latest_day(con),
            datetime.now(UTC).date(),
        )
        query = MetricQuery(
            first,
            last,
            cast(Grain, grain),  # validated by MetricQuery
            by,
        )
        t0 = time.perf_counter()
        result = compute(con, metric, query, project.server.min_cell)
    except duckdb.Error as exc:  # it opened, but its blocks do not read
        raise unreadable(project.mirror, exc) from None
    finally:
        con.close()
    AuditLog(project.audit_log).append(
        "metrics.read",
        {
            "who": f"cli:{_user()}",
            "metric": metric.name,
            "from": str(query.start),
            "to": str(query.end),
            "grain": query.grain,
            "by": query.by,
            "rows": result.row_count,
            "suppressed": result.suppressed_cells,
            "duration_ms": round((time.perf_counter() - t0) * 1000, 1),
        },
    )
    if fmt is Format.json:
        emit(as_json(result))
    elif fmt is Format.csv:
        emit(as_csv(result), newline=False)
    else:
        console.print(as_table(result))


def _user() -> str:
    """Who runs the command: the login name, or the user id where the system knows no
    name for it (a container run as an id that is in no passwd file)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def register(root: typer.Typer) -> None:
    """Add ``safemirror metrics`` to the root command line."""
    root.command("metrics")(metrics_command)

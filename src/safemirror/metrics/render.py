"""Metric results as a terminal table, JSON or CSV; withheld cells say so in every format."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

from safemirror.metrics.compute import SUPPRESSED, MetricResult
from safemirror.metrics.registry import Metric

TOTAL = "(total)"


def _plain(value: float | int | None, column: str, suppressed: bool) -> str:
    if suppressed:
        return SUPPRESSED
    if value is None:
        return ""
    return str(value)


def _pretty(value: float | int | None, column: str, suppressed: bool) -> str:
    if suppressed:
        return "[dim]suppressed[/]"
    if value is None:
        return "–"
    if column.endswith("_rate"):
        return f"{value * 100:.2f} %"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def _header(result: MetricResult) -> list[str]:
    by = [result.query.by] if result.query.by else []
    return ["period", *by, *result.columns]


def _lines(result: MetricResult, pretty: bool = False) -> list[list[str]]:
    fmt = _pretty if pretty else _plain
    out = []
    for row in result.rows:
        line = [row.period.isoformat()]
        if result.query.by:
            dim = str(row.dim)  # data: its brackets escaped for a Rich table
            line.append(TOTAL if row.total else escape(dim) if pretty else dim)
        line += [fmt(row.values[c], c, c in row.suppressed) for c in result.columns]
        out.append(line)
    return out


def as_json(result: MetricResult) -> str:
    return json.dumps(result.to_dict(), indent=2)


def as_csv(result: MetricResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_header(result))
    writer.writerows(_lines(result))
    return buffer.getvalue()


def as_table(result: MetricResult) -> Table:
    q = result.query
    caption = (
        f"cells from fewer than {result.min_cell} users are suppressed "
        f"({result.suppressed_cells} withheld)"
    )
    table = Table(
        title=escape(
            f"{result.metric.title} — {q.start} to {q.end}, by {q.grain}"
            + (f" and {q.by}" if q.by else "")
        ),
        caption=caption,
    )
    for i, name in enumerate(_header(result)):
        table.add_column(escape(name), justify="left" if i < (2 if q.by else 1) else "right")
    for line in _lines(result, pretty=True):  # markup: only "suppressed"; data escaped
        table.add_row(*line)
    return table


def metrics_table(metrics: Sequence[Metric]) -> Table:
    table = Table(title="metrics")
    for header in ("name", "grains", "dimensions", "description"):
        table.add_column(header)
    for metric in metrics:
        table.add_row(
            escape(metric.name),
            ", ".join(metric.grains),
            escape(", ".join(metric.dimensions) or "–"),
            escape(metric.description),
        )
    return table

"""Metric results as a terminal table, JSON or CSV; withheld cells say so in every format."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

from safemirror.consoles import printable
from safemirror.metrics.categories import label
from safemirror.metrics.compute import SUPPRESSED, MetricResult
from safemirror.metrics.registry import Metric

# A spreadsheet reads a cell that starts with one of these as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Controls no category has a use for, and that a terminal showing the CSV would act on.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


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
            dim = label(row.dim, row.total)  # data: in a terminal, markup and controls inert
            line.append(escape(printable(dim)) if pretty and not row.total else dim)
        line += [fmt(row.values[c], c, c in row.suppressed) for c in result.columns]
        out.append(line)
    return out


def as_json(result: MetricResult) -> str:
    return json.dumps(result.to_dict(), indent=2)


def spreadsheet_text(value: str) -> str:
    """A data value for a CSV cell: controls replaced by U+FFFD, and a value that would
    start a formula (after any spaces) prefixed with ``'`` so it stays text. A value that
    starts with ``'`` itself gets one more, so a prefixed ``=1`` (``'=1``) and a real
    ``'=1`` (``''=1``) never read alike: one leading ``'`` is always the prefix."""
    value = _CONTROLS.sub("\ufffd", value)
    prefixed = value.lstrip(" ").startswith(FORMULA_START) or value.startswith("'")
    return "'" + value if prefixed else value


def _csv_field(value: str) -> str:
    """RFC 4180: quoted when it holds a comma, a quote or any line break (CR too)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def as_csv(result: MetricResult) -> str:
    """The result as CSV; dimension values are untrusted text (see ``spreadsheet_text``)."""
    lines = [_header(result)]
    for row, line in zip(result.rows, _lines(result), strict=True):
        if result.query.by and not row.total:
            line[1] = spreadsheet_text(line[1])
        lines.append(line)
    return "".join(",".join(_csv_field(v) for v in line) + "\n" for line in lines)


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

"""A result's JSON is byte for byte what ``JSONResponse`` (``json.dumps``) would send; its
terminal table shows values as they are."""

from __future__ import annotations

import io
from datetime import date

import duckdb
import pytest
from fastapi.responses import JSONResponse
from rich.console import Console

from safemirror.metrics import MetricQuery, all_metrics, compute, get_metric
from safemirror.metrics.compute import MetricResult, ResultRow, suppress
from safemirror.metrics.render import as_table
from safemirror.metrics.table import Grid, Row

QUERIES = [
    (m.name, by, grain, k)
    for m in all_metrics()
    for by in (None, *m.dimensions)
    for grain, k in (("month", 2), ("month", 11), ("week", 5))
]


@pytest.mark.parametrize(("name", "by", "grain", "k"), QUERIES)
def test_every_metric_encodes_as_json_dumps_would(
    mirror_con: duckdb.DuckDBPyConnection, name: str, by: str | None, grain: str, k: int
) -> None:
    query = MetricQuery(date(2024, 1, 1), date(2024, 6, 30), grain, by)  # type: ignore[arg-type]
    result = compute(mirror_con, get_metric(name), query, k)
    assert result.to_json() == JSONResponse(result.to_dict()).body


ODD = ["", 'quote " and \\ back', "tab\tnew\nline\r\x00\x1f\x7f", "naïve ✓ \u2028\u2029 😀", "/"]


@pytest.mark.parametrize(
    "values",
    [
        {"new_users": 10**30, "cumulative_users": None},  # whole numbers: the fast encoder
        {"new_users": -0, "cumulative_users": 0},
        {"new_users": 1e-05, "cumulative_users": 1e16},  # floats: json.dumps itself
        {"new_users": 0.1, "cumulative_users": 3},
    ],
)
def test_odd_text_and_numbers_encode_alike(values: dict[str, float | int | None]) -> None:
    query = MetricQuery(date(2024, 1, 1), date(2024, 2, 29), "month", "country")
    rows = [
        ResultRow(period.label, dim, dim is None, dict(values), ["new_users"] if dim else [])
        for period in query.periods()
        for dim in [None, *ODD]
    ]
    result = MetricResult(get_metric("user_growth"), query, 11, rows)
    assert result.to_json() == JSONResponse(result.to_dict()).body


def big_grid(query: MetricQuery) -> Grid:
    """A user_growth grid without a small cell: suppression withholds nothing."""
    rows, running = [], dict.fromkeys([None, "DE", "FR"] if query.by else [None], 1000)
    for n, period in enumerate(query.periods()):
        for dim in running:
            running[dim] += 50 + n
            counts = {"new_users": 50 + n, "cumulative_users": running[dim]}
            values = {c: float(v) if dim == "DE" else v for c, v in counts.items()}
            rows.append(Row(period.label, dim, values, counts))
    return Grid(query, rows)


@pytest.mark.parametrize("by", [None, "country"])
def test_both_forms_of_a_result_agree(by: str | None) -> None:
    """Built straight in the published shape, a result reads as if built from rows."""
    metric = get_metric("user_growth")
    query = MetricQuery(date(2024, 1, 1), date(2024, 12, 31), "month", by)
    fast = suppress(metric, big_grid(query), 11)
    assert fast._rows is None  # the published shape, nothing else yet
    rows = [
        ResultRow(r.period, r.dim, r.total, dict(r.values), list(r.suppressed)) for r in fast.rows
    ]
    assert all(type(v) is int for r in rows for v in r.values.values())
    slow = MetricResult(metric, query, 11, rows)
    assert fast.to_dict() == slow.to_dict()
    assert fast.to_json() == slow.to_json() == JSONResponse(slow.to_dict()).body
    assert (fast.row_count, fast.suppressed_cells) == (slow.row_count, slow.suppressed_cells)
    data = fast.to_dict()
    data["rows"][0]["period"] = "changed"  # the caller's copy, not the result
    assert fast.to_dict()["rows"][0]["period"] != "changed"


def test_a_table_shows_bracketed_values_as_they_are() -> None:
    """A dimension value is data: '[/x]' is printed, not read as a closing style tag (which
    stopped the command), and '[bold]' stays visible; 'suppressed' keeps its style."""
    query = MetricQuery(date(2024, 1, 1), date(2024, 1, 31), "month", "country")
    values = {"new_users": 12, "cumulative_users": 40}
    rows = [
        ResultRow(period.label, dim, False, dict(values), ["new_users"] if dim == "[bold]" else [])
        for period in query.periods()
        for dim in ("[/x]", "[bold]")
    ]
    screen = io.StringIO()
    table = as_table(MetricResult(get_metric("user_growth"), query, 11, rows))
    Console(file=screen, width=200).print(table)
    assert "[/x]" in screen.getvalue() and "[bold]" in screen.getvalue()
    assert "suppressed" in screen.getvalue() and "[dim]" not in screen.getvalue()

"""Parity: every metric on the mirror equals the same metric computed on production.

Values and the distinct-user counts behind each cell (which drive suppression) are compared
for every dimension and grain, on ranges that start and end mid-period.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from safemirror.metrics import MetricQuery, all_metrics, compute_raw, get_metric
from tests.metrics.conftest import World
from tests.metrics.prod_sql import PRODUCTION

RANGES = {
    "month": (date(2023, 3, 15), date(2024, 11, 20)),
    "week": (date(2024, 1, 3), date(2024, 6, 30)),
    "day": (date(2024, 2, 20), date(2024, 3, 10)),
}
CASES = [  # every metric, dimension and grain (days only for the totals: they are slow)
    (m.name, by, grain)
    for m in all_metrics()
    for by in (None, *m.dimensions)
    for grain in m.grains
    if by is None or grain != "day"
]


def test_every_metric_has_a_production_definition() -> None:
    assert {m.name for m in all_metrics()} == set(PRODUCTION)


@pytest.mark.postgres
@pytest.mark.parametrize(("name", "by", "grain"), CASES)
def test_mirror_equals_production(world: World, name: str, by: str | None, grain: str) -> None:
    metric = get_metric(name)
    start, end = RANGES[grain]
    query = MetricQuery(start, end, grain, by)  # type: ignore[arg-type]
    con = duckdb.connect(str(world.mirror), read_only=True)
    try:
        grid = compute_raw(con, metric, query)
    finally:
        con.close()
    prod = PRODUCTION[name](
        world.pg_url, grain, by, {"start": start, "end": date.fromordinal(end.toordinal() + 1)}
    )
    keys = {(row.period, row.dim) for row in grid.rows}
    assert set(prod) <= keys, f"production has cells the mirror lacks: {set(prod) - keys}"
    checked = 0
    for row in grid.rows:
        expected = prod.get((row.period, row.dim), {})
        for cell in metric.cells:
            want = expected.get(cell.name, 0.0)
            assert row.values[cell.name] == pytest.approx(want), (row.period, row.dim, cell.name)
            users = expected.get(cell.name + "__users", 0.0)
            assert row.users[cell.name] == users, (row.period, row.dim, cell.name, "users")
            checked += 1
        for derived in metric.derived:
            if derived.name in expected and row.values.get(metric.cells[0].name):
                got = derived.compute(row.values)
                assert got == pytest.approx(expected[derived.name], abs=1e-6), (
                    row.period,
                    row.dim,
                    derived.name,
                )
    assert checked and any(v for r in grid.rows for v in r.values.values()), "no data compared"

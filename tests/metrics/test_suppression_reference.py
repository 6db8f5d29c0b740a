"""The suppression withholds exactly what its first, straightforward version withheld.

Random problems (two-way tables with totals, running totals over hidden bases, rows whose
parts include never-shown cells, random costs and sizes) and every metric on the test
mirror at several minimum cell sizes go through both ``tests.metrics.suppress_reference``
and ``safemirror.metrics.suppress``; the withheld cells must be the same.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping
from datetime import date

import duckdb
import pytest

import safemirror.metrics.suppress as suppress_module
from safemirror.metrics import MetricQuery, all_metrics, compute_raw, get_metric
from safemirror.metrics.compute import build_problem, suppress
from safemirror.metrics.suppress import Problem, protect
from safemirror.metrics.table import Grid, Row
from tests.metrics import suppress_reference as reference

SIZES = [0, 1, 2, 3, 5, 8, 10, 11, 12, 25, 60, 200]


class Both:
    """Declares every variable and relation in the current and the reference problem."""

    def __init__(self) -> None:
        self.new, self.old = Problem(), reference.Problem()

    def add(self, key: Hashable, users: int | None, *, shown: bool, cost: float = 0.0) -> None:
        self.new.add(key, users, shown=shown, cost=cost)
        self.old.add(key, users, shown=shown, cost=cost)

    def relate(self, terms: Mapping[Hashable, float]) -> None:
        self.new.relate(terms)
        self.old.relate(terms)


def random_problem(rng: random.Random) -> Both:
    both = Both()
    n_rows, n_cols = rng.randint(1, 6), rng.randint(1, 7)

    def size() -> int:
        return rng.choice(SIZES)

    def cost() -> float:
        return rng.choice([0.0, 0.0, 1.0, 2.0])

    for r in range(n_rows):
        for c in range(n_cols):
            both.add((r, c), size(), shown=rng.random() > 0.15, cost=cost())
        if rng.random() < 0.5:  # a row total, sometimes with a never-shown remainder
            parts = {(r, c): -1.0 for c in range(n_cols)}
            if rng.random() < 0.4:
                both.add(("rest", r), rng.choice([None, size()]), shown=False)
                parts[("rest", r)] = -1.0
            both.add(("row", r), size(), shown=True, cost=cost())
            both.relate({("row", r): 1.0, **parts})
        if rng.random() < 0.5:  # a running total along the row over a hidden base
            both.add(("base", r), None, shown=False)
            previous: Hashable = ("base", r)
            for c in range(n_cols):
                both.add(("cum", r, c), size(), shown=True, cost=cost())
                both.relate({("cum", r, c): 1.0, (r, c): -1.0, previous: -1.0})
                previous = ("cum", r, c)
    for c in range(n_cols):
        if rng.random() < 0.6:
            both.add(("col", c), size(), shown=True, cost=cost())
            weights = {(r, c): -rng.choice([1.0, 2.0]) for r in range(n_rows)}
            both.relate({("col", c): 1.0, **weights})
    return both


@pytest.mark.parametrize("seed", range(300))
def test_random_problems_withhold_the_same(seed: int) -> None:
    rng = random.Random(seed)
    both = random_problem(rng)
    k = rng.choice([2, 3, 5, 11, 20, 61])
    assert both.new.vars == both.old.vars
    assert both.new.constraints == both.old.constraints
    assert protect(both.new, k) == reference.protect(both.old, k)


@pytest.mark.parametrize("seed", range(40))
def test_sparse_path_withholds_the_same(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    both = random_problem(random.Random(5000 + seed))
    monkeypatch.setattr(suppress_module, "_DENSE_MAX", 0)
    monkeypatch.setattr(reference, "_DENSE_MAX", 0)
    assert protect(both.new, 11) == reference.protect(both.old, 11)


def test_nothing_small_withholds_nothing() -> None:
    both = Both()
    both.add("total", 100, shown=True)
    both.add("a", 40, shown=True)
    both.add("b", None, shown=False)
    both.add("c", 12, shown=False)
    both.relate({"total": 1, "a": -1, "b": -1, "c": -1})
    assert protect(both.new, 11) == reference.protect(both.old, 11) == set()
    both.add("d", 10, shown=False)  # a small cell nobody sees still has to be guarded
    both.relate({"c": 1, "d": -1, "b": 1})
    assert protect(both.new, 11) == reference.protect(both.old, 11) != set()


def test_deferred_declarations_add_hidden_quantities_only() -> None:
    problem = Problem()
    problem.add("a", 5, shown=True)
    problem.add("b", 50, shown=True)
    problem.defer(lambda: problem.add("h", None, shown=False))
    problem.defer(lambda: problem.relate({"a": 1, "b": -1, "h": -1}))
    assert problem.keys == ["a", "b"]  # nothing declared yet
    assert problem.constraints == [{0: 1.0, 1: -1.0, 2: -1.0}]
    assert problem.keys == ["a", "b", "h"]
    problem.defer(lambda: problem.add("c", 3, shown=True))  # a small cell, too late
    with pytest.raises(ValueError, match="hidden quantities only"):
        problem.resolve()
    problem.add("c", 3, shown=True)  # declared up front it is fine


def test_bulk_declarations_are_checked() -> None:
    problem = Problem()
    assert problem.extend(["a", "b"], [3, None], [True, True], [0.0, 0.0]) == 0
    assert [v.shown for v in problem.vars] == [True, False]  # hidden: never shown
    with pytest.raises(ValueError, match="declared twice"):
        problem.extend(["c", "a"], [1, 1], [True, True], [0.0, 0.0])
    with pytest.raises(ValueError, match="declared twice"):
        problem.extend(["c", "c"], [1, 1], [True, True], [0.0, 0.0])
    with pytest.raises(ValueError, match="length"):
        problem.extend(["c"], [1, 1], [True], [0.0])
    assert problem.keys == ["a", "b"]
    with pytest.raises(IndexError):
        problem.relate_indices([{0: 1.0, 1: -1.0}, {0: 1.0, 2: -1.0}])
    with pytest.raises(IndexError):
        problem.relate_indices([{-1: 1.0, 1: -1.0}])
    assert problem.constraints == []  # nothing of a refused batch is kept
    problem.relate_indices([{0: 1.0, 1: 0.0}, {}])  # one term or none left: no relation
    problem.relate_indices([{0: 1, 1: -1}])
    assert problem.constraints == [{0: 1.0, 1: -1.0}]


QUERIES = [
    (m.name, by, grain)
    for m in all_metrics()
    for by in (None, *m.dimensions)
    for grain in ("month", "week")
]


@pytest.mark.parametrize(("name", "by", "grain"), QUERIES)
def test_metrics_withhold_the_same(
    mirror_con: duckdb.DuckDBPyConnection, name: str, by: str | None, grain: str
) -> None:
    metric = get_metric(name)
    query = MetricQuery(
        date(2024, 1, 1), date(2024, 6, 30) if grain == "week" else date(2024, 12, 31), grain, by
    )  # type: ignore[arg-type]
    grid = compute_raw(mirror_con, metric, query)
    new, old = build_problem(metric, grid), reference.build_problem(metric, grid)
    assert new.vars == old.vars
    assert new.constraints == old.constraints
    cells = {c.name for c in metric.cells}
    for k in (2, 5, 11, 30, 100):
        expected = reference.protect(old, k)
        assert protect(new, k) == expected, k
        result = suppress(metric, grid, k)  # skips the problem when nothing is small
        shown = {(i, c) for i, row in enumerate(result.rows) for c in row.suppressed if c in cells}
        assert shown == expected, k


@pytest.mark.parametrize("k", [11, 49, 50, 51, 52, 75])
def test_a_grid_without_small_cells_needs_no_problem(k: int) -> None:
    metric = get_metric("user_growth")
    query = MetricQuery(date(2024, 1, 1), date(2024, 6, 30), "month", "country")
    rng = random.Random(k)
    rows, running = [], dict.fromkeys([None, "DE", "FR"], 0)
    for period in query.periods():
        news = {"DE": rng.randint(50, 90), "FR": rng.randint(50, 90)}
        news[None] = news["DE"] + news["FR"]
        for dim in running:
            running[dim] += news[dim]
            counts = {"new_users": news[dim], "cumulative_users": running[dim]}
            rows.append(Row(period.label, dim, {c: float(n) for c, n in counts.items()}, counts))
    grid = Grid(query, rows)
    expected = reference.protect(reference.build_problem(metric, grid), k)
    result = suppress(metric, grid, k)
    assert {(i, c) for i, row in enumerate(result.rows) for c in row.suppressed} == expected
    assert bool(expected) == any(n < k for row in rows for n in row.users.values())

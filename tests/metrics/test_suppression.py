"""Small-cell suppression: no cell of fewer than k users is shown or can be derived.

For every metric, dimension and grain the published result is attacked independently: the
test writes down what anyone knows about the metric (totals are sums of their parts, a
cumulative count grows by the new count, a distribution adds up to its users, attempts are
failures plus successes) and solves it exactly with ``tests.metrics.exact``.
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from datetime import date

import duckdb
import pytest

from safemirror.errors import UsageError
from safemirror.metrics import MetricQuery, all_metrics, compute, compute_raw, get_metric
from safemirror.metrics.compute import MetricResult
from safemirror.metrics.suppress import Problem, protect
from tests.metrics.exact import recoverable

BUCKETS = [f"users_{n}" for n in range(1, 10)] + ["users_10plus"]
ADDITIVE = {
    "device_activations": ["activations"],
    "active_devices": ["active_devices"],
    "failed_connection_rate": ["attempts", "failed", "~succeeded"],
    "camera_connectivity_rate": ["cameras", "connected", "~offline"],
    "user_growth": ["new_users", "cumulative_users"],
    "devices_per_user": ["users", "devices", *BUCKETS, "~s10"],
}
DERIVED = {
    "failure_rate": ["failed", "attempts"],
    "connectivity_rate": ["connected", "cameras"],
    "mean": ["devices", "users"],
    "median": ["users", *BUCKETS],
}


def equations(name: str, result: MetricResult) -> list[dict[Hashable, float]]:
    """What a reader of ``result`` knows, as equations over the unknowns only."""
    rows = result.rows

    def term(i: int, col: str) -> Hashable | None:
        if col.startswith("~"):
            return (col, i)  # never published
        return ("cell", i, col) if col in rows[i].suppressed else None

    def eq(*pairs: tuple[Hashable | None, float]) -> dict[Hashable, float]:
        out: dict[Hashable, float] = {}
        for var, coef in pairs:
            if var is not None:
                out[var] = out.get(var, 0.0) + coef
        return out

    eqs: list[dict[Hashable, float]] = []
    if result.query.by is not None:
        periods: dict[date, list[int]] = {}
        for i, row in enumerate(rows):
            periods.setdefault(row.period, []).append(i)
        for members in periods.values():
            total = next(i for i in members if rows[i].total)
            for col in ADDITIVE[name]:
                eqs.append(
                    eq(
                        (term(total, col), 1.0),
                        *((term(i, col), -1.0) for i in members if i != total),
                    )
                )
    for i in range(len(rows)):
        if name == "failed_connection_rate":
            eqs.append(
                eq((term(i, "attempts"), 1), (term(i, "failed"), -1), (term(i, "~succeeded"), -1))
            )
        if name == "camera_connectivity_rate":
            eqs.append(
                eq((term(i, "cameras"), 1), (term(i, "connected"), -1), (term(i, "~offline"), -1))
            )
        if name == "devices_per_user":
            eqs.append(eq((term(i, "users"), 1), *((term(i, b), -1) for b in BUCKETS)))
            eqs.append(
                eq(
                    (term(i, "devices"), 1),
                    (term(i, "~s10"), -1),
                    *((term(i, b), -n) for n, b in enumerate(BUCKETS[:-1], start=1)),
                )
            )
    if name == "user_growth":
        last: dict[tuple[bool, str | None], Hashable] = {}  # a missing value's dim is None too
        for i, row in enumerate(rows):
            key = (row.total, row.dim)
            before = last.get(key, ("base", key))
            eqs.append(
                eq((term(i, "cumulative_users"), 1), (term(i, "new_users"), -1), (before, -1))
            )
            last[key] = term(i, "cumulative_users")
        if result.query.by is not None:
            eqs.append({("base", k): (1.0 if k[0] else -1.0) for k in last})
    # A withheld cell that a later equation names as "known" must not appear; drop empties.
    return [e for e in eqs if e]


QUERIES = [
    (m.name, by, grain, k)
    for m in all_metrics()
    for by in (None, *m.dimensions)
    for grain, k in (("month", 11), ("week", 5))
]


@pytest.mark.parametrize(("name", "by", "grain", "k"), QUERIES)
def test_no_small_cell_shown_or_derivable(
    mirror_con: duckdb.DuckDBPyConnection, name: str, by: str | None, grain: str, k: int
) -> None:
    metric = get_metric(name)
    query = MetricQuery(
        date(2024, 1, 1), date(2024, 6, 30) if grain == "week" else date(2024, 12, 31), grain, by
    )  # type: ignore[arg-type]
    raw = compute_raw(mirror_con, metric, query)
    result = compute(mirror_con, metric, query, k)
    assert len(result.rows) == len(raw.rows)
    published = 0
    for raw_row, row in zip(raw.rows, result.rows, strict=True):
        for cell in metric.cells:
            if not cell.shown:
                continue
            if raw_row.users[cell.name] < k:
                assert cell.name in row.suppressed, ("primary", row.period, row.dim, cell.name)
            if cell.name in row.suppressed:
                assert row.values[cell.name] is None
            else:
                published += 1
                assert row.values[cell.name] == raw_row.values[cell.name]
        for derived, sources in DERIVED.items():
            if derived == "median" and derived in metric.columns and raw_row.values["users"]:
                seen, median = 0.0, len(BUCKETS)  # lower median: first bucket reaching half
                for n, bucket in enumerate(BUCKETS, start=1):
                    seen += raw_row.values[bucket]
                    if seen >= raw_row.values["users"] / 2:
                        median = n
                        break
                sources = ["users", *BUCKETS[:median]]
            if derived in metric.columns and set(sources) & set(row.suppressed):
                assert derived in row.suppressed and row.values[derived] is None
    assert published, "everything suppressed: the fixture is too small to test anything"
    found = recoverable(equations(name, result))
    leaked = sorted(v for v in found if isinstance(v, tuple) and v[0] == "cell")
    assert not leaked, f"withheld cells recoverable: {leaked[:5]}"
    for var in found:  # never-published quantities of few users must stay unknown too
        if isinstance(var, tuple) and var[0] in ("~succeeded", "~offline"):
            cell = var[0][1:]
            assert raw.rows[var[1]].users[cell] >= k, ("implicit cell recoverable", var)


def test_one_small_part_gets_a_complement() -> None:
    problem = Problem()
    problem.add("total", 100, shown=True)
    for part, users in (("a", 3), ("b", 40), ("c", 57)):
        problem.add(part, users, shown=True)
    problem.relate({"total": 1, "a": -1, "b": -1, "c": -1})
    assert protect(problem, 11) == {"a", "b"}  # b: the cheapest complement


@pytest.mark.parametrize("seed", range(25))
def test_random_two_way_tables_leak_nothing(seed: int) -> None:
    """Rows, columns and a grand total: bridges between cycles, chains — all must hold."""
    rng = random.Random(seed)
    n_rows, n_cols = rng.randint(2, 6), rng.randint(2, 6)
    users = {
        (r, c): rng.choice([0, 1, 3, 8, 12, 25, 60, 200])
        for r in range(n_rows)
        for c in range(n_cols)
    }
    problem = Problem()
    for key, n in users.items():
        problem.add(key, n, shown=True)
    for r in range(n_rows):
        problem.add(("row", r), sum(users[(r, c)] for c in range(n_cols)), shown=True, cost=1)
        problem.relate({("row", r): 1, **{(r, c): -1 for c in range(n_cols)}})
    for c in range(n_cols):
        problem.add(("col", c), sum(users[(r, c)] for r in range(n_rows)), shown=True, cost=1)
        problem.relate({("col", c): 1, **{(r, c): -1 for r in range(n_rows)}})
    problem.add("all", sum(users.values()), shown=True, cost=2)
    problem.relate({"all": 1, **{("row", r): -1 for r in range(n_rows)}})
    problem.relate({"all": 1, **{("col", c): -1 for c in range(n_cols)}})
    withheld = protect(problem, 11)
    assert {k for k, n in users.items() if n < 11} <= withheld
    eqs = [
        {problem.vars[v].key: coef for v, coef in row.items() if problem.vars[v].key in withheld}
        for row in problem.constraints
    ]
    assert not recoverable(e for e in eqs if e)


def test_k_below_two_is_refused(mirror_con: duckdb.DuckDBPyConnection) -> None:
    metric = get_metric("user_growth")
    with pytest.raises(UsageError, match="at least 2"):
        compute(mirror_con, metric, MetricQuery(date(2024, 1, 1), date(2024, 2, 1)), 1)


def test_larger_k_withholds_more(mirror_con: duckdb.DuckDBPyConnection) -> None:
    metric = get_metric("device_activations")
    query = MetricQuery(date(2024, 1, 1), date(2024, 12, 31), "month", "category")
    counts = [compute(mirror_con, metric, query, k).suppressed_cells for k in (2, 11, 40)]
    assert counts[0] <= counts[1] <= counts[2] and counts[0] < counts[2]


@pytest.mark.parametrize("seed", range(10))
def test_sparse_and_dense_checks_agree(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Big groups use sparse elimination instead of the SVD: same answers, still no leak."""
    import safemirror.metrics.suppress as suppress_module

    rng = random.Random(1000 + seed)
    problem = Problem()
    n_rows, n_cols = rng.randint(3, 7), rng.randint(3, 7)
    for r in range(n_rows):
        for c in range(n_cols):
            problem.add((r, c), rng.choice([0, 2, 9, 15, 40, 300]), shown=True)
    for r in range(n_rows):  # a running total along each row: a chain, like user growth
        problem.add(("base", r), None, shown=False)
        previous: Hashable = ("base", r)
        for c in range(n_cols):
            problem.add(("cum", r, c), 1000, shown=True)
            problem.relate({("cum", r, c): 1, (r, c): -1, previous: -1})
            previous = ("cum", r, c)
    for c in range(n_cols):
        problem.add(("col", c), 500, shown=True, cost=1)
        problem.relate({("col", c): 1, **{(r, c): -1 for r in range(n_rows)}})
    dense = protect(problem, 11)
    monkeypatch.setattr(suppress_module, "_DENSE_MAX", 0)
    sparse = protect(problem, 11)
    assert dense == sparse
    eqs = [
        {
            problem.vars[v].key: coef
            for v, coef in row.items()
            if problem.vars[v].key in sparse or problem.vars[v].users is None
        }
        for row in problem.constraints
    ]
    assert not {v for v in recoverable(e for e in eqs if e) if v in sparse}

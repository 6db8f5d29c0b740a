"""The small-cell suppression as first written, kept to check the current one against.

``safemirror.metrics.suppress`` and ``compute.build_problem`` were rewritten for speed;
they must withhold exactly what this straightforward version withholds.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import numpy as np

from safemirror.metrics.registry import Metric
from safemirror.metrics.table import Grid

_TOL = 1e-9
_DENSE_MAX = 400  # unknowns in one group up to which the SVD is used; beyond: sparse elimination
_MAX_GROUP = 20_000  # beyond this many unknowns in one group, withhold the group wholesale


class Var(NamedTuple):
    """One variable: a shown cell, an implicit cell or a hidden quantity (``users=None``)."""

    key: Hashable
    users: int | None
    shown: bool
    cost: float = 0.0


@dataclass
class Problem:
    """Variables and the linear constraints between them."""

    vars: list[Var] = field(default_factory=list)
    index: dict[Hashable, int] = field(default_factory=dict)
    constraints: list[dict[int, float]] = field(default_factory=list)

    def add(self, key: Hashable, users: int | None, *, shown: bool, cost: float = 0.0) -> None:
        """Declare a variable; ``users=None`` marks a hidden quantity (never published)."""
        if key in self.index:
            raise ValueError(f"variable {key!r} declared twice")
        self.index[key] = len(self.vars)
        self.vars.append(Var(key, users, shown and users is not None, cost))

    def relate(self, terms: Mapping[Hashable, float]) -> None:
        """Declare ``sum(coef * var) == 0`` over existing variables."""
        row = {self.index[key]: float(coef) for key, coef in terms.items() if coef}
        if len(row) >= 2:
            self.constraints.append(row)


def _components(problem: Problem, unknown: set[int]) -> list[tuple[list[int], list[int]]]:
    """Connected groups of unknowns: (variables, constraints touching them)."""
    parent = {v: v for v in unknown}

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    touching: list[int] = []
    for ci, row in enumerate(problem.constraints):
        members = [v for v in row if v in unknown]
        if not members:
            continue
        touching.append(ci)
        root = find(members[0])
        for other in members[1:]:
            parent[find(other)] = root
    groups: dict[int, list[int]] = {}
    for v in unknown:
        groups.setdefault(find(v), []).append(v)
    cons: dict[int, list[int]] = {}
    for ci in touching:
        first = next(v for v in problem.constraints[ci] if v in unknown)
        cons.setdefault(find(first), []).append(ci)
    return [(sorted(vs), cons.get(root, [])) for root, vs in groups.items()]


def _determined(problem: Problem, variables: list[int], constraints: list[int]) -> set[int]:
    """Variables of one group that the constraints pin to a single value."""
    if not constraints:
        return set()
    if len(variables) > _DENSE_MAX:
        return _determined_sparse(problem, set(variables), constraints)
    col = {v: j for j, v in enumerate(variables)}
    matrix = np.zeros((len(constraints), len(variables)))
    for i, ci in enumerate(constraints):
        for v, coef in problem.constraints[ci].items():
            if v in col:
                matrix[i, col[v]] = coef
    _, sing, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = int((sing > _TOL * max(1.0, float(sing[0]) if sing.size else 1.0)).sum())
    if rank == 0:
        return set()
    weight = (vt[:rank] ** 2).sum(axis=0)  # squared norm of each unit vector's projection
    return {variables[j] for j in range(len(variables)) if weight[j] > 1.0 - 1e-7}


def _determined_sparse(problem: Problem, variables: set[int], constraints: list[int]) -> set[int]:
    """The same answer for big groups: sparse Gauss-Jordan elimination, largest pivot first.

    The basis stays fully reduced, so a variable is determined exactly when its own pivot
    row has no other entry. Relations here are short with small integer coefficients.
    """
    pivots: dict[int, dict[int, float]] = {}
    for ci in constraints:
        row = {v: c for v, c in problem.constraints[ci].items() if v in variables}
        for var in [v for v in row if v in pivots]:
            coef = row.pop(var, 0.0)
            for v, c in pivots[var].items():
                if v != var:
                    value = row.get(v, 0.0) - coef * c
                    if abs(value) > _TOL:
                        row[v] = value
                    else:
                        row.pop(v, None)
        if not row:
            continue
        pivot = max(row, key=lambda v: (abs(row[v]), -v))
        scale = row[pivot]
        row = {v: c / scale for v, c in row.items()}
        row[pivot] = 1.0
        for other in pivots.values():
            coef = other.pop(pivot, 0.0)
            if coef:
                for v, c in row.items():
                    if v != pivot:
                        value = other.get(v, 0.0) - coef * c
                        if abs(value) > _TOL:
                            other[v] = value
                        else:
                            other.pop(v, None)
        pivots[pivot] = row
    return {v for v, row in pivots.items() if len(row) == 1}


def _cheapest(problem: Problem, candidates: Iterable[int]) -> int | None:
    best: tuple[float, int, int] | None = None
    for v in candidates:
        var = problem.vars[v]
        rank = (var.cost, var.users or 0, v)
        if best is None or rank < best:
            best = rank
    return None if best is None else best[2]


def _close_singles(problem: Problem, unknown: set[int], guarded: set[int]) -> set[int]:
    """Cheap first pass: while a relation has a guarded cell as its only unknown, withhold
    the relation's cheapest published cell too. Returns what it withheld."""
    added: set[int] = set()
    changed = True
    while changed:
        changed = False
        for row in problem.constraints:
            missing = [v for v in row if v in unknown]
            if len(missing) != 1 or missing[0] not in guarded:
                continue
            pick = _cheapest(problem, (v for v in row if v not in unknown))
            if pick is not None:
                unknown.add(pick)
                guarded.add(pick)
                added.add(pick)
                changed = True
    return added


def protect(problem: Problem, k: int) -> set[Hashable]:
    """Keys of the shown variables to withhold so no small cell can be seen or derived."""
    sensitive = {i for i, v in enumerate(problem.vars) if v.users is not None and v.users < k}
    withheld = {i for i in sensitive if problem.vars[i].shown}
    unknown = {i for i, v in enumerate(problem.vars) if not v.shown} | withheld
    memo: dict[tuple[int, ...], set[int]] = {}  # groups that did not change keep their answer
    while True:
        guarded = sensitive | withheld
        closed = _close_singles(problem, unknown, guarded)
        withheld |= closed
        exposed_groups = []
        for variables, constraints in _components(problem, unknown):
            if not (sensitive | withheld).intersection(variables):
                continue
            if len(variables) > _MAX_GROUP:
                exposed_groups.append((variables, constraints, True))
                continue
            group = tuple(variables)
            if group not in memo:
                memo[group] = _determined(problem, variables, constraints)
            hit = memo[group] & (sensitive | withheld)
            if hit:
                exposed_groups.append((variables, constraints, False))
        if not exposed_groups:
            break
        added: set[int] = set()
        for _variables, constraints, too_big in exposed_groups:
            published = [
                {v for v in problem.constraints[ci] if v not in unknown and v not in added}
                for ci in constraints
            ]
            if too_big:
                added.update(set().union(*published) if published else set())
                continue
            singles = [
                pub
                for ci, pub in zip(constraints, published, strict=True)
                if sum(1 for v in problem.constraints[ci] if v in unknown) == 1 and pub
            ]
            for pub in singles:
                if not pub & added:
                    pick = _cheapest(problem, pub)
                    if pick is not None:
                        added.add(pick)
            if not singles:
                pick = _cheapest(problem, set().union(*published) if published else set())
                if pick is not None:
                    added.add(pick)
        if not added:
            # Nothing left to withhold next to the exposed cells: fail closed on all of them.
            for _variables, constraints, _ in exposed_groups:
                for ci in constraints:
                    added.update(v for v in problem.constraints[ci] if problem.vars[v].shown)
            added -= unknown
            if not added:
                break
        unknown |= added
        withheld |= added
    return {problem.vars[i].key for i in withheld}


def build_problem(metric: Metric, grid: Grid) -> Problem:
    """Variables (row i's cell ``name`` is ``(i, name)``) and every known relation."""
    problem = Problem()
    for i, row in enumerate(grid.rows):
        for cell in metric.cells:
            # Totals are costlier to withhold than parts: prefer parts as complements.
            problem.add(
                (i, cell.name),
                row.users[cell.name],
                shown=cell.shown,
                cost=1.0 if row.dim is None and grid.query.by is not None else 0.0,
            )
        for name in metric.hidden:
            problem.add((i, name), None, shown=False)
        for relation in metric.row_relations:
            problem.relate({(i, name): coef for name, coef in relation.items()})
    if grid.query.by is not None:
        additive = [c.name for c in metric.cells if c.additive] + list(metric.hidden)
        index = {id(row): i for i, row in enumerate(grid.rows)}
        for rows in grid.by_period().values():
            total = next(index[id(r)] for r in rows if r.dim is None)
            parts = [index[id(r)] for r in rows if r.dim is not None]
            for name in additive:
                terms: dict[Hashable, float] = {(total, name): 1.0}
                terms |= {(p, name): -1.0 for p in parts}
                problem.relate(terms)
    if metric.name in RELATE:
        RELATE[metric.name](grid, problem)
    else:
        metric.relate(grid, cast(Any, problem))  # the hook only calls add and relate
    return problem


def _user_growth_relate(grid: Grid, problem: Problem) -> None:
    """cumulative[t] = cumulative[t-1] + new[t]; before the range: a hidden base."""
    previous: dict[str | None, Hashable] = {}
    for i, row in enumerate(grid.rows):
        if row.dim not in previous:
            problem.add(("base", row.dim), None, shown=False)
            previous[row.dim] = ("base", row.dim)
        problem.relate(
            {(i, "cumulative_users"): 1.0, (i, "new_users"): -1.0, previous[row.dim]: -1.0}
        )
        previous[row.dim] = (i, "cumulative_users")
    if grid.query.by is not None:
        problem.relate({("base", d): (1.0 if d is None else -1.0) for d in previous})


RELATE = {"user_growth": _user_growth_relate}  # hooks as first written, where they changed

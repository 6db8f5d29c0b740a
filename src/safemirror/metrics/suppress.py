"""Small-cell suppression with complementary suppression, checked by linear algebra.

A metric result is a set of *variables*: the cells it publishes (each built from some
number of distinct users), cells it never shows but that follow from shown ones (the
``ok`` attempts behind a failure rate) and hidden quantities (the users created before
the range). *Constraints* are the exact linear relations between them that anyone who
reads the result knows: a total is the sum of its parts, a cumulative count grows by the
new count, a row's buckets add up to its users.

1. Primary suppression: every shown cell built from fewer than ``k`` distinct users is
   withheld.
2. Complementary suppression: no withheld cell, and no sensitive cell (fewer than ``k``
   users, shown or not), may be *determined* by the published cells through the
   constraints. A variable is determined exactly when its unit vector lies in the row
   space of the constraint matrix restricted to the unknown variables; we test that with
   an SVD per connected group of unknowns (sparse elimination for big groups), after a
   cheap pass over relations with a single unknown. While some guarded cell is
   determined, more cells are withheld — first the cheapest cell of every constraint that
   has a single unknown, otherwise the cheapest published cell next to the exposed group —
   until none is.

Only the structure matters, never the values, so the check is exact and deterministic.
With no sensitive variable at all there is nothing to withhold or guard, so the
constraints are not even built (``Problem.defer``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from safemirror.errors import UsageError

MIN_K = 2
_TOL = 1e-9
_DENSE_MAX = 400  # unknowns in one group up to which the SVD is used; beyond: sparse elimination
_MAX_GROUP = 20_000  # beyond this many unknowns in one group, withhold the group wholesale


class Var(NamedTuple):
    """One variable: a shown cell, an implicit cell or a hidden quantity (``users=None``)."""

    key: Hashable
    users: int | None
    shown: bool
    cost: float = 0.0


class Problem:
    """Variables, kept column by column (``keys``, ``users``, ``shown``, ``costs``), and the
    linear constraints between them.

    Relations may be declared later (``defer``): they are built only once ``constraints``
    is read, which ``protect`` does only when some variable is small. What is declared
    then may add hidden quantities only, so the small variables are known up front.
    """

    def __init__(self) -> None:
        self.keys: list[Hashable] = []
        self.users: list[int | None] = []
        self.shown: list[bool] = []
        self.costs: list[float] = []
        self.index: dict[Hashable, int] = {}
        self._rows: list[dict[int, float]] = []
        self._deferred: list[Callable[[], None]] = []
        self._hidden_only = False

    @property
    def constraints(self) -> list[dict[int, float]]:
        """Every relation as a ``{variable index: nonzero coefficient}`` row (two or more)."""
        self.resolve()
        return self._rows

    @property
    def vars(self) -> list[Var]:
        """The variables as records, in declaration order (deferred ones included)."""
        self.resolve()
        return list(map(Var, self.keys, self.users, self.shown, self.costs))

    def defer(self, declare: Callable[[], None]) -> None:
        """Call ``declare`` (relations, hidden quantities) when the relations are needed."""
        self._deferred.append(declare)

    def resolve(self) -> None:
        """Run the deferred declarations, in order."""
        while self._deferred:
            declare = self._deferred.pop(0)
            self._hidden_only = True
            try:
                declare()
            finally:
                self._hidden_only = False

    def add(self, key: Hashable, users: int | None, *, shown: bool, cost: float = 0.0) -> None:
        """Declare a variable; ``users=None`` marks a hidden quantity (never published)."""
        if key in self.index:
            raise ValueError(f"variable {key!r} declared twice")
        if self._hidden_only and users is not None:
            raise ValueError(f"deferred declarations may add hidden quantities only: {key!r}")
        self.index[key] = len(self.keys)
        self.keys.append(key)
        self.users.append(users)
        self.shown.append(shown and users is not None)
        self.costs.append(cost)

    def extend(
        self,
        keys: Sequence[Hashable],
        users: Sequence[int | None],
        shown: Sequence[bool],
        costs: Sequence[float],
    ) -> int:
        """Declare many variables at once, as ``add`` would; returns the first one's index."""
        if not len(keys) == len(users) == len(shown) == len(costs):
            raise ValueError("keys, users, shown and costs differ in length")
        if self._hidden_only and any(n is not None for n in users):
            raise ValueError("deferred declarations may add hidden quantities only")
        first = len(self.keys)
        new = dict(zip(keys, range(first, first + len(keys)), strict=True))
        if len(new) != len(keys) or not self.index.keys().isdisjoint(new):
            seen = set(self.index)
            for key in keys:
                if key in seen:
                    raise ValueError(f"variable {key!r} declared twice")
                seen.add(key)
        self.index |= new
        self.keys += keys
        self.users += users
        self.shown += [s and u is not None for s, u in zip(shown, users, strict=True)]
        self.costs += costs
        return first

    def relate(self, terms: Mapping[Hashable, float]) -> None:
        """Declare ``sum(coef * var) == 0`` over existing variables."""
        index = self.index
        self.relate_indices([{index[key]: coef for key, coef in terms.items()}])

    def relate_indices(self, rows: Sequence[Mapping[int, float]]) -> None:
        """``relate`` for many relations at once, over variable indices (``extend``, ``index``)."""
        used = [row for row in rows if row]
        if used and (min(map(min, used)) < 0 or max(map(max, used)) >= len(self.keys)):
            raise IndexError("a relation over an undeclared variable")
        for row in used:
            kept = {v: float(c) for v, c in row.items() if c}
            if len(kept) >= 2:
                self._rows.append(kept)

    def sensitive(self, k: int) -> set[int]:
        """Variables built from fewer than ``k`` users, shown or not (deferred declarations
        add hidden quantities only, which never are)."""
        return {i for i, n in enumerate(self.users) if n is not None and n < k}


def _components(problem: Problem, unknown: set[int]) -> list[tuple[list[int], list[int]]]:
    """Connected groups of unknowns: (variables, constraints touching them)."""
    parent = {v: v for v in unknown}

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    rows = problem.constraints
    touching: list[int] = []
    for ci, row in enumerate(rows):
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
        first = next(v for v in rows[ci] if v in unknown)
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
    rows = problem.constraints
    for i, ci in enumerate(constraints):
        for v, coef in rows[ci].items():
            if v in col:
                matrix[i, col[v]] = coef
    _, sing, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = int((sing > _TOL * max(1.0, float(sing[0]) if sing.size else 1.0)).sum())
    if rank == 0:
        return set()
    weight = (vt[:rank] ** 2).sum(axis=0)  # squared norm of each unit vector's projection
    return {variables[j] for j in range(len(variables)) if weight[j] > 1.0 - 1e-7}


def _subtract(row: dict[int, float], coef: float, pivot_row: dict[int, float], skip: int) -> None:
    """``row -= coef * pivot_row`` (but for ``skip``), dropping entries that cancel out."""
    for v, c in pivot_row.items():
        if v != skip:
            value = row.get(v, 0.0) - coef * c
            if abs(value) > _TOL:
                row[v] = value
            else:
                row.pop(v, None)


def _determined_sparse(problem: Problem, variables: set[int], constraints: list[int]) -> set[int]:
    """The same answer for big groups: sparse Gauss-Jordan elimination, largest pivot first.

    The basis stays fully reduced, so a variable is determined exactly when its own pivot
    row has no other entry. Relations here are short with small integer coefficients.
    """
    pivots: dict[int, dict[int, float]] = {}
    rows = problem.constraints
    for ci in constraints:
        row = {v: c for v, c in rows[ci].items() if v in variables}
        for var in [v for v in row if v in pivots]:
            _subtract(row, row.pop(var, 0.0), pivots[var], skip=var)
        if not row:
            continue
        pivot = max(row, key=lambda v: (abs(row[v]), -v))
        scale = row[pivot]
        row = {v: c / scale for v, c in row.items()}
        row[pivot] = 1.0
        for other in pivots.values():
            coef = other.pop(pivot, 0.0)
            if coef:
                _subtract(other, coef, row, skip=pivot)
        pivots[pivot] = row
    return {v for v, row in pivots.items() if len(row) == 1}


def _cheapest(problem: Problem, candidates: Iterable[int]) -> int | None:
    """The candidate cheapest to withhold: lowest cost, then fewest users, then first."""
    costs, users = problem.costs, problem.users
    best: tuple[float, int, int] | None = None
    for v in candidates:
        rank = (costs[v], users[v] or 0, v)
        if best is None or rank < best:
            best = rank
    return None if best is None else best[2]


def _close_singles(problem: Problem, unknown: set[int], guarded: set[int]) -> set[int]:
    """Cheap first pass: while a relation has a guarded cell as its only unknown, withhold
    the relation's cheapest published cell too. Returns what it withheld."""
    added: set[int] = set()
    rows = problem.constraints
    changed = True
    while changed:
        changed = False
        for row in rows:
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


def check_min_cell(k: int) -> None:
    """Refuse a minimum cell size below ``MIN_K``."""
    if k < MIN_K:
        raise UsageError(f"the minimum cell size must be at least {MIN_K}, not {k}")


def protect(problem: Problem, k: int) -> set[Hashable]:
    """Keys of the shown variables to withhold so no small cell can be seen or derived."""
    check_min_cell(k)
    sensitive = problem.sensitive(k)
    if not sensitive:
        return set()  # no small cell, shown or not: nothing to withhold, nothing to guard
    rows = problem.constraints  # deferred relations are declared now
    shown = problem.shown
    withheld = {i for i in sensitive if shown[i]}
    unknown = {i for i, s in enumerate(shown) if not s} | withheld
    memo: dict[tuple[int, ...], set[int]] = {}  # groups that did not change keep their answer
    while True:
        guarded = sensitive | withheld
        closed = _close_singles(problem, unknown, guarded)
        withheld |= closed
        watched = sensitive | withheld
        exposed_groups = []
        for variables, constraints in _components(problem, unknown):
            if watched.isdisjoint(variables):
                continue
            if len(variables) > _MAX_GROUP:
                exposed_groups.append((variables, constraints, True))
                continue
            group = tuple(variables)
            if group not in memo:
                memo[group] = _determined(problem, variables, constraints)
            if not watched.isdisjoint(memo[group]):
                exposed_groups.append((variables, constraints, False))
        if not exposed_groups:
            break
        added: set[int] = set()
        for _variables, constraints, too_big in exposed_groups:
            published = [
                {v for v in rows[ci] if v not in unknown and v not in added} for ci in constraints
            ]
            if too_big:
                added.update(set().union(*published) if published else set())
                continue
            singles = [
                pub
                for ci, pub in zip(constraints, published, strict=True)
                if sum(1 for v in rows[ci] if v in unknown) == 1 and pub
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
                    added.update(v for v in rows[ci] if shown[v])
            added -= unknown
            if not added:
                break
        unknown |= added
        withheld |= added
    return {problem.keys[i] for i in withheld}

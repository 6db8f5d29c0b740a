"""An independent attacker: exact rational elimination over what a published result implies.

Given equations ``sum(coef * x) == const`` between unknowns (withheld cells, quantities
never published), ``recoverable`` returns the unknowns whose value the equations pin down.
It uses Fractions and sparse Gauss-Jordan elimination — no floating point, no SVD, nothing
shared with the implementation under test.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from fractions import Fraction


def recoverable(equations: Iterable[Mapping[Hashable, float | int | Fraction]]) -> set[Hashable]:
    """Unknowns fixed by the equations (the constant side is irrelevant to *whether*)."""
    pivots: dict[Hashable, dict[Hashable, Fraction]] = {}  # pivot var -> reduced row
    for equation in equations:
        row = {v: Fraction(c) for v, c in equation.items() if c}
        # Reduce by existing pivots.
        for var in [v for v in row if v in pivots]:
            coef = row.get(var)
            if not coef:
                continue
            for v, c in pivots[var].items():
                row[v] = row.get(v, Fraction(0)) - coef * c
                if not row[v]:
                    del row[v]
        if not row:
            continue
        pivot = min(row, key=repr)
        scale = row[pivot]
        row = {v: c / scale for v, c in row.items()}
        # Eliminate the new pivot from the other rows (keep the basis fully reduced).
        for other in pivots.values():
            coef = other.get(pivot)
            if coef:
                for v, c in row.items():
                    other[v] = other.get(v, Fraction(0)) - coef * c
                    if not other[v]:
                        del other[v]
        pivots[pivot] = row
    return {var for var, row in pivots.items() if len(row) == 1}

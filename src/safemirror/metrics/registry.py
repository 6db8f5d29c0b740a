"""The metric registry: every metric is a registered class that declares itself.

A metric declares its name, description, grains, allowed dimensions (name → SQL over the
mirror), its cells (counts built from distinct users, shown or implicit), values derived
from them (rates, means), the exact linear relations between its cells (used by
suppression) and how the dashboard charts it. ``fetch`` runs its SQL on the mirror.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import duckdb

from safemirror.errors import UsageError
from safemirror.metrics.categories import key_sql
from safemirror.metrics.periods import GRAINS, Grain, MetricQuery
from safemirror.metrics.sqlexec import records
from safemirror.metrics.suppress import Problem
from safemirror.metrics.table import Grid, build_grid


@dataclass(frozen=True)
class Cell:
    """A count in every row. ``shown=False`` cells are never output but follow from others."""

    name: str
    label: str
    shown: bool = True
    additive: bool = True  # the total row is the sum of the dimension's rows


@dataclass(frozen=True)
class Derived:
    """A value computed from cells of the same row; withheld when any source it uses is.

    ``uses`` narrows ``sources`` to those a given row's value actually depends on (the
    median depends only on the buckets up to it); by default every source counts.
    """

    name: str
    label: str
    sources: tuple[str, ...]
    compute: Callable[[Mapping[str, float]], float | None]
    uses: Callable[[Mapping[str, float]], tuple[str, ...]] | None = None

    def used(self, values: Mapping[str, float]) -> tuple[str, ...]:
        return self.uses(values) if self.uses is not None else self.sources


@dataclass(frozen=True)
class Chart:
    """How the dashboard draws the metric: a line/bar per series of one value column."""

    kind: Literal["line", "bar", "histogram"]
    value: str
    percent: bool = False


def ratio(numerator: str, denominator: str) -> Callable[[Mapping[str, float]], float | None]:
    def compute(values: Mapping[str, float]) -> float | None:
        den = values[denominator]
        return round(values[numerator] / den, 6) if den else None

    return compute


class MetricUnavailable(UsageError):
    """The mirror lacks a table or column a metric reads."""


class Metric(ABC):
    """Base of every metric definition."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    grains: ClassVar[tuple[Grain, ...]] = GRAINS
    dimensions: ClassVar[Mapping[str, str]] = {}
    cells: ClassVar[tuple[Cell, ...]]
    derived: ClassVar[tuple[Derived, ...]] = ()
    columns: ClassVar[tuple[str, ...]]  # output order of shown cells and derived values
    hidden: ClassVar[tuple[str, ...]] = ()  # per-row quantities never published, additive
    row_relations: ClassVar[tuple[Mapping[str, float], ...]] = ()  # sum(coef * x) == 0
    chart: ClassVar[Chart]

    @abstractmethod
    def sql(self, query: MetricQuery) -> str:
        """The SQL over the mirror (named parameters from ``sqlexec.params``)."""

    def fetch(self, con: duckdb.DuckDBPyConnection, query: MetricQuery) -> Grid:
        """Compute every cell (with its distinct-user count) on the mirror."""
        cells = [c.name for c in self.cells]
        return build_grid(query, cells, records(con, self.sql(query), query, cells))

    def grid(self, con: duckdb.DuckDBPyConnection, query: MetricQuery) -> Grid:
        """``fetch``, with a mirror that lacks a table or column it reads named as such."""
        try:
            return self.fetch(con, query)
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            reason = str(exc).splitlines()[0]
            raise MetricUnavailable(
                f"metric {self.name} cannot be computed on this mirror: {reason}",
                hint="the metrics read the tables and columns of the demo's schema (see "
                "docs/metrics.md); a policy that drops or skips one leaves them out",
            ) from None

    def relate(self, grid: Grid, problem: Problem) -> None:  # noqa: B027 (optional hook)
        """Relations beyond row relations and totals (a running total, say); none here.

        Called only when suppression needs the relations; it may add hidden quantities
        (``users=None``) but no cell.
        """

    def check(self, query: MetricQuery) -> None:
        """Refuse a grain or dimension the metric does not declare."""
        if query.grain not in self.grains:
            raise UsageError(
                f"metric {self.name} has no '{query.grain}' grain",
                hint=f"use one of {', '.join(self.grains)}",
            )
        if query.by is not None and query.by not in self.dimensions:
            allowed = ", ".join(self.dimensions) or "none"
            raise UsageError(
                f"metric {self.name} cannot be broken down by '{query.by}'",
                hint=f"allowed dimensions: {allowed}",
            )

    def dim_sql(self, query: MetricQuery) -> str:
        """The dimension's grid key as SQL (``categories.key_sql``), or NULL without one."""
        if query.by is None:
            return "CAST(NULL AS VARCHAR)"
        return key_sql(self.dimensions[query.by])

    @staticmethod
    def group_by(query: MetricQuery, *keys: str) -> str:
        """GROUP BY the keys and, with a dimension, also by the keys plus the dimension."""
        base = ", ".join(keys)
        with_dim = ", ".join((*keys, "dim"))
        if query.by is None:
            return f"GROUP BY {with_dim}"
        return f"GROUP BY GROUPING SETS (({with_dim}), ({base}))"

    @staticmethod
    def group_by_user(query: MetricQuery, *keys: str) -> str:
        """Pre-aggregate per user (fast distinct counts): per dimension value and in total."""
        if query.by is None:
            return f"GROUP BY {', '.join((*keys, 'dim', 'user_id'))}"
        with_dim = ", ".join((*keys, "dim", "user_id"))
        return f"GROUP BY GROUPING SETS (({with_dim}), ({', '.join((*keys, 'user_id'))}))"

    def describe(self) -> dict[str, Any]:
        labels = {c.name: c.label for c in self.cells} | {d.name: d.label for d in self.derived}
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "grains": list(self.grains),
            "dimensions": list(self.dimensions),
            "columns": [{"name": c, "label": labels[c]} for c in self.columns],
            "chart": {
                "kind": self.chart.kind,
                "value": self.chart.value,
                "percent": self.chart.percent,
            },
        }


REGISTRY: dict[str, Metric] = {}
M = TypeVar("M", bound=type[Metric])


def register(cls: M) -> M:
    """Class decorator: validate the declaration and add one instance to the registry."""
    metric = cls()
    names = {c.name for c in metric.cells} | {d.name for d in metric.derived}
    unknown = [c for c in metric.columns if c not in names]
    if unknown or metric.chart.value not in metric.columns:
        raise TypeError(f"metric {metric.name}: unknown output column(s) {unknown}")
    for derived in metric.derived:
        if not set(derived.sources) <= {c.name for c in metric.cells}:
            raise TypeError(f"metric {metric.name}: {derived.name} derives from unknown cells")
    if metric.name in REGISTRY:
        raise TypeError(f"metric {metric.name} registered twice")
    REGISTRY[metric.name] = metric
    return cls


def get_metric(name: str) -> Metric:
    """The registered metric called ``name`` (dashes or underscores)."""
    from safemirror.metrics import definitions  # noqa: F401  (fills the registry)

    key = name.replace("-", "_")
    if key not in REGISTRY:
        raise UsageError(
            f"unknown metric '{name}'", hint=f"known metrics: {', '.join(sorted(REGISTRY))}"
        )
    return REGISTRY[key]


def all_metrics() -> list[Metric]:
    from safemirror.metrics import definitions  # noqa: F401

    return list(REGISTRY.values())

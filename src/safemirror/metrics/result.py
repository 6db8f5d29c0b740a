"""A suppressed metric result: its rows, its published JSON shape and its encoding.

The rows exist in one of two equivalent forms, the other derived on first use:
``ResultRow`` objects, or the rows as published (``{"period", <by>, "total", <columns>,
"suppressed"}``), which the common path of suppression builds directly. Both hold only
what may be published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pydantic_core

from safemirror.metrics.periods import MetricQuery
from safemirror.metrics.registry import Metric

SUPPRESSED = "suppressed"
# What JSONResponse sends; results hold no cycles, so none are looked for.
_JSON = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=False
)
Published = dict[str, Any]


@dataclass(slots=True)
class ResultRow:
    period: date
    dim: str | None
    total: bool
    values: dict[str, float | int | None]
    suppressed: list[str] = field(default_factory=list)


class MetricResult:
    """A suppressed metric result, safe to publish."""

    def __init__(
        self,
        metric: Metric,
        query: MetricQuery,
        min_cell: int,
        rows: list[ResultRow] | None = None,
        *,
        published: list[Published] | None = None,
        whole: bool | None = None,
    ) -> None:
        """``rows``, or ``published`` rows (then ``whole``: every value an int or None)."""
        if (rows is None) == (published is None):
            raise TypeError("give either rows or published rows")
        self.metric, self.query, self.min_cell = metric, query, min_cell
        self._rows, self._published, self._whole = rows, published, whole

    @property
    def rows(self) -> list[ResultRow]:
        if self._rows is None:
            assert self._published is not None
            by, columns = self.query.by, self.metric.columns
            self._rows = [
                ResultRow(
                    date.fromisoformat(item["period"]),
                    item[by] if by is not None else None,
                    item["total"],
                    {c: item[c] for c in columns},
                    item["suppressed"],
                )
                for item in self._published
            ]
        return self._rows

    @property
    def row_count(self) -> int:
        return len(self._rows if self._rows is not None else self._published or [])

    @property
    def columns(self) -> list[str]:
        return list(self.metric.columns)

    @property
    def suppressed_cells(self) -> int:
        if self._rows is None:
            return sum(len(item["suppressed"]) for item in self._published or [])
        return sum(len(r.suppressed) for r in self._rows)

    def _published_rows(self) -> list[Published]:
        if self._published is None:
            by = self.query.by
            day = {p.label: p.label.isoformat() for p in self.query.periods()}
            if by is None:
                self._published = [
                    {
                        "period": day.get(r.period) or r.period.isoformat(),
                        "total": r.total,
                        **r.values,
                        "suppressed": r.suppressed,
                    }
                    for r in self.rows
                ]
            else:
                self._published = [
                    {
                        "period": day.get(r.period) or r.period.isoformat(),
                        by: r.dim,
                        "total": r.total,
                        **r.values,
                        "suppressed": r.suppressed,
                    }
                    for r in self.rows
                ]
        return self._published

    def _document(self, rows: list[Published]) -> dict[str, Any]:
        return {
            "metric": self.metric.name,
            "title": self.metric.title,
            "grain": self.query.grain,
            "by": self.query.by,
            "from": self.query.start.isoformat(),
            "to": self.query.end.isoformat(),
            "min_cell": self.min_cell,
            "columns": self.columns,
            "suppressed_cells": self.suppressed_cells,
            "rows": rows,
        }

    def to_dict(self) -> dict[str, Any]:
        """The result as published (fresh row dicts: the caller may change them)."""
        return self._document([dict(item) for item in self._published_rows()])

    def to_json(self) -> bytes:
        """``to_dict`` as compact UTF-8 JSON, byte for byte what ``json.dumps`` writes (and
        so FastAPI's ``JSONResponse``). When every value is a whole number or empty (floats
        are the one type Python spells its own way: ``1e-05``), pydantic's Rust encoder
        writes the same bytes several times faster.
        """
        data = self._document(self._published_rows())
        whole = self._whole
        if whole is None:
            whole = all(type(v) is int or v is None for r in self.rows for v in r.values.values())
        return pydantic_core.to_json(data) if whole else _JSON.encode(data).encode("utf-8")

"""Request and response bodies of the HTTP API (they make the OpenAPI spec)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorOut(BaseModel):
    """Every error: what went wrong and, when known, what to do."""

    detail: str
    hint: str | None = None


class HealthOut(BaseModel):
    status: Literal["ok"]


class MeOut(BaseModel):
    id: str
    name: str
    role: Literal["viewer", "analyst", "admin"]
    via: Literal["bearer", "session"]
    min_cell: int


class ColumnOut(BaseModel):
    name: str
    label: str


class ChartOut(BaseModel):
    kind: Literal["line", "bar", "histogram"]
    value: str
    percent: bool


class MetricInfo(BaseModel):
    name: str
    title: str
    description: str
    grains: list[Literal["day", "week", "month"]]
    dimensions: list[str]
    columns: list[ColumnOut]
    chart: ChartOut


class MetricRow(BaseModel):
    """One row: ``period``, the dimension value (key named after ``by``), ``total``, each
    column's value (``null`` when withheld) and ``suppressed``: the withheld columns."""

    model_config = ConfigDict(extra="allow")

    period: str
    total: bool
    suppressed: list[str]


class MetricOut(BaseModel):
    metric: str
    title: str
    grain: Literal["day", "week", "month"]
    by: str | None
    from_: str = Field(alias="from")
    to: str
    min_cell: int
    columns: list[str]
    suppressed_cells: int
    rows: list[MetricRow]

    model_config = ConfigDict(populate_by_name=True)


class SqlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sql: str = Field(
        min_length=1, max_length=20_000, examples=["SELECT country, count(*) FROM users GROUP BY 1"]
    )


class SqlOut(BaseModel):
    columns: list[str]
    types: list[str] = Field(description="each column's DuckDB type")
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    duration_ms: float


class TableOut(BaseModel):
    name: str
    columns: list[dict[str, str]]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._@-]*$")
    role: Literal["viewer", "analyst", "admin"]
    expires: str | None = Field(
        default=None, max_length=40, description="a duration (30d, 12h, 2w) or an ISO date"
    )


class KeyOut(BaseModel):
    id: str
    name: str
    role: Literal["viewer", "analyst", "admin"]
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    status: Literal["active", "expired", "revoked"]


class KeyCreatedOut(KeyOut):
    key: str = Field(description="the key itself; shown once, never stored")


class AuditEntryOut(BaseModel):
    seq: int
    ts: str
    kind: str
    data: dict[str, Any]


class AuditOut(BaseModel):
    intact: bool
    problem: str | None
    entries: list[AuditEntryOut]

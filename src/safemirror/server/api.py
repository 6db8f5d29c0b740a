"""JSON API routes: health, metrics, read-only SQL, keys and the audit log."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any, Literal, cast

import duckdb
from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import Response

from safemirror.errors import AuditError, SafemirrorError, UsageError
from safemirror.metrics.compute import compute, latest_day
from safemirror.metrics.periods import Grain, MetricQuery, query_range
from safemirror.metrics.registry import all_metrics, get_metric
from safemirror.server.apikeys import Role, parse_expiry
from safemirror.server.app import ServerState, current, principal_of, state_of
from safemirror.server.auth import Principal
from safemirror.server.models import (
    AuditEntryOut,
    AuditOut,
    ErrorOut,
    HealthOut,
    KeyCreatedOut,
    KeyIn,
    KeyOut,
    MeOut,
    MetricInfo,
    MetricOut,
    SqlIn,
    SqlOut,
    TableOut,
)
from safemirror.server.routing import Routes
from safemirror.server.sandbox import QueryRefused, load_catalog

routes = Routes()
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "invalid request or refused query"},
    401: {"model": ErrorOut, "description": "no valid key or session"},
    403: {"model": ErrorOut, "description": "the key's role is too low, or CSRF failed"},
    429: {"model": ErrorOut, "description": "too many failed authentications"},
    503: {"model": ErrorOut, "description": "the mirror does not exist yet"},
}


# Metric requests run here rather than in the framework's thread pool: handing work to
# a plain executor and back costs less, and metric requests are the hot path.
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="metric")
QUICK_S = 0.02  # metric requests that took less answer on the event loop when it is idle


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


@routes.get("/api/health", "public", response_model=HealthOut)
def health() -> dict[str, str]:
    """Liveness; the only route that needs no key (and says nothing else)."""
    return {"status": "ok"}


@routes.get("/api/me", "viewer", response_model=MeOut, responses=ERRORS)
def me(request: Request, who: Principal = Depends(current)) -> dict[str, Any]:
    """The caller's key and role."""
    return {
        "id": who.key_id,
        "name": who.name,
        "role": who.role.name,
        "via": who.via,
        "min_cell": state_of(request).config.server.min_cell,
    }


@routes.get("/api/metrics", "viewer", response_model=list[MetricInfo], responses=ERRORS)
def list_metrics() -> list[dict[str, Any]]:
    """Every metric: definition, grains, dimensions and columns."""
    return [m.describe() for m in all_metrics()]


@routes.get(
    "/api/metrics/{name}",
    "viewer",
    response_model=MetricOut,
    response_model_by_alias=True,
    responses={**ERRORS, 404: {"model": ErrorOut, "description": "unknown metric"}},
)
async def metric(
    request: Request,
    name: str,
    start: date | None = Query(
        None, alias="from", description="first day (default: 12 months before 'to')"
    ),
    end: date | None = Query(
        None, alias="to", description="last day, inclusive (default: the latest day in the mirror)"
    ),
    grain: Literal["day", "week", "month"] = Query("month"),
    by: str | None = Query(None, max_length=40, description="a dimension of the metric"),
) -> Response:
    """A metric over a range; cells of fewer than ``min_cell`` users are withheld."""
    state = state_of(request)
    who = principal_of(request)  # not a dependency: one less for the framework to solve
    work = functools.partial(_metric, state, name, start, end, grain, by, who)
    quick = state.took.get((name, start, end, grain, by), QUICK_S) < QUICK_S
    if quick and state.in_flight == 1 and state.pool.idle():
        # Nothing else to answer or waiting for the mirror, and it took a few milliseconds
        # last time: a worker thread would add a large share to that, so answer it here.
        body = work()
    else:
        context = contextvars.copy_context()
        body = await asyncio.get_running_loop().run_in_executor(_WORKERS, context.run, work)
    return Response(body, media_type="application/json")  # shaped as MetricOut already


def _metric(
    state: ServerState,
    name: str,
    start: date | None,
    end: date | None,
    grain: Grain,
    by: str | None,
    who: Principal,
) -> bytes:
    """The metric request itself: compute (or reuse), audit, note how long it took."""
    began = time.perf_counter()
    shape = (name, start, end, grain, by)
    try:
        definition = get_metric(name)
    except UsageError as exc:
        raise HTTPException(404, exc.message) from None
    t0 = time.perf_counter()
    settings = state.config.server
    entry: dict[str, Any] = {
        "who": who.who,
        "role": who.role.name,
        "metric": definition.name,
        "grain": grain,
        "by": by,
    }
    try:
        ident = state.pool.ident()

        def latest() -> date | None:
            found, _ = state.results.get_or_compute(
                ("latest", ident),
                lambda: state.pool.run(latest_day, settings.query_timeout_s, reuse=True),
            )
            return cast(date | None, found)

        start, end = query_range(start, end, latest, datetime.now(UTC).date())
        entry |= {"from": str(start), "to": str(end)}
        query = MetricQuery(start, end, grain, by)
        definition.check(query)

        def work(cursor: duckdb.DuckDBPyConnection) -> tuple[bytes, int, int]:
            result = compute(cursor, definition, query, settings.min_cell)
            # Encoded once, served many times; exactly what JSONResponse would send.
            return result.to_json(), result.row_count, result.suppressed_cells

        outcome, cached = state.results.get_or_compute(
            (ident, definition.name, query, settings.min_cell),
            lambda: state.pool.run(work, settings.query_timeout_s, reuse=True, ident=ident),
        )
    except SafemirrorError as exc:
        entry |= {"error": exc.message, "duration_ms": _ms(t0)}
        state.audit.append("server.metric", entry)
        raise
    body: bytes
    body, rows, withheld = outcome
    entry |= {"rows": rows, "suppressed": withheld, "cached": cached, "duration_ms": _ms(t0)}
    state.audit.append("server.metric", entry)
    if len(state.took) >= 1024:
        state.took.clear()
    state.took[shape] = time.perf_counter() - began
    return body


@routes.get("/api/tables", "analyst", response_model=list[TableOut], responses=ERRORS)
def tables(request: Request) -> list[dict[str, Any]]:
    """The tables and columns SQL may read."""
    state = state_of(request)
    with state.pool.session() as (cursor, _):
        catalog = load_catalog(cursor, state.config.policy)
    return [
        {"name": n, "columns": [{"name": c, "type": t} for c, t in catalog.columns[n]]}
        for n in sorted(catalog.allowed)
    ]


@routes.post("/api/sql", "analyst", response_model=SqlOut, responses=ERRORS)
async def sql(request: Request, body: SqlIn, who: Principal = Depends(current)) -> Response:
    """Run one read-only SELECT over the mirror (time, memory and row limits apply)."""
    state = state_of(request)
    settings = state.config.server
    t0 = time.perf_counter()
    entry: dict[str, Any] = {"who": who.who, "role": who.role.name, "sql": body.sql}
    try:
        answer = await state.sql.query(
            body.sql,
            max_rows=settings.max_rows,
            timeout_s=settings.query_timeout_s,
            client_gone=_client_gone(request),
        )
    except SafemirrorError as exc:
        entry |= {
            "refused": isinstance(exc, QueryRefused),
            "error": exc.message,
            "rows": 0,
            "duration_ms": _ms(t0),
        }
        state.audit.append("server.sql", entry)
        raise
    except Exception as exc:  # a bug of ours: still on the record, without its details
        entry |= {"refused": False, "error": f"internal error ({type(exc).__name__})"}
        state.audit.append("server.sql", entry | {"rows": 0, "duration_ms": _ms(t0)})
        raise
    entry |= {
        "refused": False,
        "rows": answer.rows,
        "truncated": answer.truncated,
        "duration_ms": answer.duration_ms,
    }
    state.audit.append("server.sql", entry)
    return Response(answer.body, media_type="application/json")  # shaped as SqlOut already


async def _client_gone(request: Request) -> None:
    """Returns when the client disconnects (the body has been read: nothing else comes)."""
    while (await request.receive())["type"] != "http.disconnect":
        await asyncio.sleep(0.1)


@routes.get("/api/keys", "admin", response_model=list[KeyOut], responses=ERRORS)
def list_keys(request: Request) -> list[dict[str, Any]]:
    """Every key, without secrets."""
    return [r.public() for r in state_of(request).keys.records()]


@routes.post("/api/keys", "admin", response_model=KeyCreatedOut, status_code=201, responses=ERRORS)
def create_key(request: Request, body: KeyIn, who: Principal = Depends(current)) -> dict[str, Any]:
    """Create a key; the response holds the key itself, the only time it is shown."""
    state = state_of(request)
    record, key = state.keys.create(body.name, Role[body.role], parse_expiry(body.expires))
    state.audit.append(
        "keys.create",
        {
            "by": who.who,
            "id": record.id,
            "name": record.name,
            "role": record.role.name,
            "expires_at": record.public()["expires_at"],
        },
    )
    return {**record.public(), "key": key}


@routes.delete(
    "/api/keys/{key_id}",
    "admin",
    response_model=KeyOut,
    responses={**ERRORS, 404: {"model": ErrorOut, "description": "unknown key"}},
)
def revoke_key(request: Request, key_id: str, who: Principal = Depends(current)) -> dict[str, Any]:
    """Revoke a key at once (its sessions end too)."""
    state = state_of(request)
    if state.keys.get(key_id) is None:
        raise HTTPException(404, "no such key")
    record = state.keys.revoke(key_id)
    state.audit.append("keys.revoke", {"by": who.who, "id": record.id, "name": record.name})
    return record.public()


@routes.get("/api/audit", "admin", response_model=AuditOut, responses=ERRORS)
def audit(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    kind: str | None = Query(None, max_length=64),
) -> dict[str, Any]:
    """The newest audit entries and whether the chain verifies."""
    log = state_of(request).audit
    report = log.verify()
    newest: deque[AuditEntryOut] = deque(maxlen=limit)
    with contextlib.suppress(AuditError):  # a damaged line ends the list; the report says so
        for e in log.entries():
            if kind is None or e.kind == kind:
                newest.append(AuditEntryOut(seq=e.seq, ts=e.ts, kind=e.kind, data=e.data))
    return {"intact": report.ok, "problem": report.problem, "entries": list(newest)}

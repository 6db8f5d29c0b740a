"""The FastAPI application: ``create_app(config)``.

Deny by default: every route declares the role it needs (``x-required-role`` in its OpenAPI
entry) and one app-wide dependency enforces it before the handler runs; ``create_app``
refuses to build an app with a route that declares none. Only ``/api/health`` is public.
There is no setting, flag or variable that turns authentication off.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safemirror import __version__
from safemirror.audit import AuditLog
from safemirror.config import ProjectConfig
from safemirror.errors import (
    AuditError,
    SafemirrorError,
    SourceError,
    TransientError,
    UsageError,
)
from safemirror.metrics.mirror import MirrorPool
from safemirror.server.apikeys import KeyStore, Role
from safemirror.server.auth import Authenticator, FailureLimiter, Principal
from safemirror.server.cache import ResultCache
from safemirror.server.limits import BodyLimit, invalid_request
from safemirror.server.sqlchild import WorkerSettings
from safemirror.server.sqlworker import SqlWorker

PUBLIC, SIGNIN = "public", "signin"
ROLE_NAMES = {PUBLIC, SIGNIN, *Role.__members__}
UI_PATHS = frozenset({"/", "/login"})
FORM_CSRF_PATHS = frozenset({"/logout"})  # plain HTML forms: the handler checks the token
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'"
)


def role(name: str) -> dict[str, Any]:
    """Route keyword arguments declaring the least role that may call it."""
    return {"openapi_extra": {"x-required-role": name}}


@dataclass
class ServerState:
    config: ProjectConfig
    audit: AuditLog
    keys: KeyStore
    auth: Authenticator
    pool: MirrorPool
    templates: Environment
    tls: bool
    results: ResultCache
    sql: SqlWorker  # analysts' SQL, in a process of its own
    in_flight: int = 0  # HTTP requests being answered (changed on the event loop only)
    took: dict[Hashable, float] = field(default_factory=dict)  # seconds, per request shape


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.sm
    return state


def required_role(route: APIRoute) -> str:
    extra = route.openapi_extra or {}
    return str(extra.get("x-required-role", ""))


async def guard(request: Request) -> None:
    """App-wide dependency: authenticate and authorize against the route's declared role.

    A bearer key already verified is checked on the event loop; anything that needs the
    password hash or the keys file runs in a worker thread.
    """
    route = request.scope.get("route")
    needed = required_role(route) if isinstance(route, APIRoute) else ""
    if needed in (PUBLIC, SIGNIN):
        return
    state = state_of(request)
    principal = state.auth.authenticate_cached(request)
    if principal is None:
        principal = await run_in_threadpool(state.auth.authenticate, request)
    if needed not in Role.__members__:  # undeclared: fail closed
        raise HTTPException(403, "this route declares no role")
    if principal.role < Role[needed]:
        raise HTTPException(
            403, f"the {principal.role.name} role may not do this; it needs {needed}"
        )
    if principal.via == "session" and request.url.path not in FORM_CSRF_PATHS:
        state.auth.check_csrf(request, principal)  # bearer keys carry no CSRF risk
    request.state.principal = principal


def principal_of(request: Request) -> Principal:
    """The caller the guard authenticated for this request."""
    principal = getattr(request.state, "principal", None)
    if principal is None:  # pragma: no cover - the guard always ran first
        raise HTTPException(401, "authentication required")
    assert isinstance(principal, Principal)
    return principal


async def current(request: Request) -> Principal:
    """Dependency: ``principal_of`` the request."""
    return principal_of(request)


class SecurityHeaders:
    """Pure ASGI middleware: strict security headers on every response. It also counts the
    HTTP requests being answered (``ServerState.in_flight``), which saves a layer."""

    FIXED = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    )
    DEFAULTS = ((b"content-security-policy", CSP.encode()), (b"cache-control", b"no-store"))
    HSTS = ((b"strict-transport-security", b"max-age=31536000"),)  # under TLS only

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in self.FIXED if h[0] not in present]
                headers += [h for h in self.DEFAULTS if h[0] not in present]
                if self.state.tls:
                    headers += self.HSTS
                message = {**message, "headers": headers}
            await send(message)

        self.state.in_flight += 1
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self.state.in_flight -= 1


def signin_page(
    request: Request, status: int, message: str | None, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """The sign-in form (no script; its one style block carries a per-response nonce)."""
    state = state_of(request)
    nonce = secrets.token_urlsafe(16)
    html = state.templates.get_template("signin.html").render(
        message=message, nonce=nonce, version=__version__
    )
    response = HTMLResponse(html, status_code=status, headers=headers or {})
    response.headers["Content-Security-Policy"] = CSP.replace(
        "style-src 'self'", f"style-src 'nonce-{nonce}'"
    )
    return response


def _status_of(exc: SafemirrorError) -> int:
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, TransientError | AuditError):  # an audit log that takes no entry
        return 503  # refuses every audited request until it is restored
    if isinstance(exc, SourceError):  # the server reads no source: the mirror is unreadable
        return 503  # until a sync replaces it
    return 500


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if request.url.path in UI_PATHS and exc.status_code in (401, 429):
            message = (
                None
                if request.method == "GET"
                and exc.status_code == 401
                and "sign in" in str(exc.detail)
                else str(exc.detail)
            )
            return signin_page(request, exc.status_code, message, dict(exc.headers or {}))
        return await http_exception_handler(request, exc)

    app.add_exception_handler(RequestValidationError, invalid_request)

    @app.exception_handler(SafemirrorError)
    async def _ours(request: Request, exc: SafemirrorError) -> Response:
        return JSONResponse({"detail": exc.message, "hint": exc.hint}, status_code=_status_of(exc))


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        spec = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=app.description
        )
        spec.setdefault("components", {})["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "an API key from 'safemirror keys create'",
            }
        }
        for path, ops in spec.get("paths", {}).items():
            for op in ops.values():
                if op.get("x-required-role") != PUBLIC and path != "/login":
                    op["security"] = [{"bearer": []}]
        app.openapi_schema = spec
    return app.openapi_schema


AUDIT_SYNC_INTERVAL_S = 0.2  # audit lines are written at once, fsynced within this delay


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown, stop the SQL worker and fsync the audit entries the background syncer
    has not reached yet."""
    state: ServerState = app.state.sm
    yield
    state.sql.close()
    state.audit.close()


def create_app(
    config: ProjectConfig,
    *,
    failure_limit: int = 10,
    failure_window_s: float = 60.0,
    cache_size: int = 256,
) -> FastAPI:
    """Build the server for a project: API, dashboard, auth. Authentication cannot be off."""
    from safemirror.server import api, ui

    audit = AuditLog(config.audit_log, sync_interval_s=AUDIT_SYNC_INTERVAL_S)
    keys = KeyStore(config.server.keys_file)
    tls = bool(config.server.tls_cert and config.server.tls_key)
    state = ServerState(
        config=config,
        audit=audit,
        keys=keys,
        auth=Authenticator(keys, audit, FailureLimiter(failure_limit, failure_window_s), tls=tls),
        pool=MirrorPool(config.mirror, memory_limit=config.server.memory_limit),
        templates=Environment(
            loader=PackageLoader("safemirror.server", "templates"),
            autoescape=select_autoescape(default=True),
        ),
        tls=tls,
        results=ResultCache(cache_size),
        sql=SqlWorker(WorkerSettings(config.mirror, config.policy, config.server.memory_limit)),
    )
    app = FastAPI(
        title="safemirror",
        version=__version__,
        description="Metrics and read-only SQL over the de-identified mirror. "
        "Every route but /api/health needs an API key.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(guard)],
        lifespan=_lifespan,
    )
    app.state.sm = state
    api.routes.install(app)
    ui.routes.install(app)

    def openapi_spec() -> JSONResponse:
        """The OpenAPI document of this API (behind a key, like everything else)."""
        return JSONResponse(_openapi(app))

    app.add_api_route(
        "/openapi.json", openapi_spec, methods=["GET"], include_in_schema=False, **role("viewer")
    )

    _install_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, state=state)  # outermost: its headers on every answer
    for route in app.routes:
        if not isinstance(route, APIRoute) or required_role(route) not in ROLE_NAMES:
            raise RuntimeError(f"route {getattr(route, 'path', route)} declares no role")
    return app

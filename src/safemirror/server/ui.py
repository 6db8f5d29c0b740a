"""The dashboard: sign-in form, session cookie, the page and its locally served assets."""

from __future__ import annotations

import hmac
import mimetypes
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safemirror import __version__
from safemirror.server.app import current, state_of
from safemirror.server.auth import SESSION_TTL, Principal, client_of
from safemirror.server.routing import Routes

routes = Routes(defaults={"include_in_schema": False})
_STATIC = resources.files("safemirror.server") / "static"
ASSETS = frozenset(p.name for p in _STATIC.iterdir() if p.is_file())
_MAX_FORM = 4096


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > _MAX_FORM:
        raise HTTPException(413, "form too large")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items() if v}


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


@routes.get("/", "viewer", response_class=HTMLResponse)
def dashboard(request: Request, who: Principal = Depends(current)) -> HTMLResponse:
    """The dashboard (without a session: 401 and the sign-in form)."""
    state = state_of(request)
    html = state.templates.get_template("dashboard.html").render(
        who=who,
        csrf=who.csrf or "",
        min_cell=state.config.server.min_cell,
        analyst=who.role.value >= 2,
        version=__version__,
    )
    return HTMLResponse(html)


@routes.post("/login", "signin")
async def login(request: Request) -> Response:
    """Sign in with a key: sets an HttpOnly, SameSite=Strict session cookie."""
    state = state_of(request)
    if not _same_origin(request):
        raise HTTPException(403, "cross-site sign-in refused")
    form = await _form(request)
    key = form.get("key", "").strip()
    if not key:
        raise HTTPException(401, "enter an API key")
    record = state.auth.check_key(request, key)
    token, _ = state.auth.sessions.open(record)
    state.audit.append(
        "server.signin", {"who": f"{record.name} ({record.id})", "client": client_of(request)}
    )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        state.auth.cookie,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=state.tls,
        path="/",
    )
    return response


@routes.post("/logout", "viewer")
async def logout(request: Request, who: Principal = Depends(current)) -> Response:
    """End the session (the form must carry the CSRF token)."""
    state = state_of(request)
    form = await _form(request)
    sent = form.get("csrf") or request.headers.get("x-csrf-token") or ""
    if who.via == "session" and not hmac.compare_digest(sent, who.csrf or ""):
        raise HTTPException(403, "missing or wrong CSRF token")
    token = request.cookies.get(state.auth.cookie)
    if token:
        state.auth.sessions.close(token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(
        state.auth.cookie, path="/", httponly=True, samesite="strict", secure=state.tls
    )
    return response


@routes.get("/static/{name}", "viewer")
def static(name: str) -> Response:
    """A dashboard asset shipped in the package (no CDN anywhere)."""
    if name not in ASSETS:
        raise HTTPException(404, "no such asset")
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    data = (_STATIC / name).read_bytes()
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=300"})

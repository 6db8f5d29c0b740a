"""Request limits applied before any route runs: the size of a request body, and what a
422 answer repeats of the request.

The framework reads and parses a request's body before the route's dependencies run, the
authentication guard among them, so without a limit anyone who can reach the port could
make the server hold a body of any size in memory (and push it to its memory ceiling,
where other requests fail). No request of this API needs more than a few kilobytes.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1 << 20  # an SQL query of 20,000 characters is at most 120 kB of JSON
TOO_LARGE = f"the request body is larger than {MAX_BODY_BYTES >> 20} MB"


class BodyLimit:
    """Pure ASGI middleware: 413 for a body over ``limit`` bytes, declared or streamed,
    before more than ``limit`` bytes of it are read."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            response = JSONResponse({"detail": TOO_LARGE, "hint": None}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, limited, send)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """What was wrong with a request, without repeating its values (a value the server
    cannot write as JSON, NaN or a lone surrogate, would turn a 422 into a 500)."""
    return [
        {"type": str(e.get("type", "")), "loc": list(e.get("loc", ())), "msg": str(e.get("msg"))}
        for e in exc.errors()
    ]


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """The 422 answer: ``{"detail": [{"type", "loc", "msg"}, ...]}``."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": validation_errors(exc)}, status_code=422)

"""Who is asking: bearer keys, dashboard sessions, CSRF tokens and failure rate limiting.

Every request but the health check carries a key (``Authorization: Bearer``) or a session
cookie obtained by signing in with a key. Sessions live in memory, are tied to their key
(revoking the key ends them) and carry a CSRF token that state-changing requests must echo.
Too many failed attempts from one client lock that client out for a while, valid key or not.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, Request

from safemirror.audit import AuditLog
from safemirror.server.apikeys import KeyRecord, KeyStore, Role

SESSION_COOKIE = "sm_session"
SECURE_SESSION_COOKIE = "__Host-sm_session"  # browsers take it only over HTTPS, host-bound


def session_cookie(tls: bool) -> str:
    """The session cookie's name: under TLS the ``__Host-`` prefix, which a browser accepts
    only with ``Secure``, ``Path=/`` and no ``Domain`` (no sibling host can plant or shadow
    it); plain HTTP (loopback only) cannot carry that prefix."""
    return SECURE_SESSION_COOKIE if tls else SESSION_COOKIE


CSRF_HEADER = "x-csrf-token"
SESSION_TTL = timedelta(hours=8)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_KEY_ID = re.compile(r"smk_([0-9a-f]{12})_")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    key_id: str
    name: str
    role: Role
    via: str  # "bearer" or "session"
    csrf: str | None = None

    @property
    def who(self) -> str:
        return f"{self.name} ({self.key_id})"


class FailureLimiter:
    """At most ``limit`` failed authentications per client per ``window`` seconds."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, at: float) -> deque[float]:
        events = self._events.setdefault(client, deque())
        while events and events[0] <= at - self.window:
            events.popleft()
        return events

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again (0: allowed now)."""
        if client not in self._events:  # never failed (or forgotten): no lock, no bookkeeping
            return 0
        at = time.monotonic()
        with self._lock:
            events = self._recent(client, at)
            if len(events) < self.limit:
                return 0
            return max(1, int(events[0] + self.window - at) + 1)

    def failed(self, client: str) -> bool:
        """Record a failure; True when this one reached the limit."""
        at = time.monotonic()
        with self._lock:
            events = self._recent(client, at)
            events.append(at)
            if len(self._events) > 10_000:  # forget idle clients
                for other in [c for c, e in self._events.items() if not e]:
                    del self._events[other]
            return len(events) == self.limit


@dataclass
class _Session:
    key_id: str
    csrf: str
    expires: datetime


class Sessions:
    """Server-side dashboard sessions; the cookie holds only a random token."""

    def __init__(self) -> None:
        self._items: dict[bytes, _Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _id(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def open(self, record: KeyRecord) -> tuple[str, str]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = datetime.now(UTC) + SESSION_TTL
        if record.expires_at is not None:
            expires = min(expires, record.expires_at)
        with self._lock:
            at = datetime.now(UTC)
            for sid in [s for s, v in self._items.items() if v.expires <= at]:
                del self._items[sid]
            self._items[self._id(token)] = _Session(record.id, csrf, expires)
        return token, csrf

    def get(self, token: str) -> _Session | None:
        with self._lock:
            session = self._items.get(self._id(token))
            if session is None or session.expires <= datetime.now(UTC):
                return None
            return session

    def close(self, token: str) -> None:
        with self._lock:
            self._items.pop(self._id(token), None)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Authenticator:
    """Resolves a request to a ``Principal`` or refuses it (401, 403, 429)."""

    def __init__(
        self, store: KeyStore, audit: AuditLog, limiter: FailureLimiter, *, tls: bool = False
    ) -> None:
        self.store, self.audit, self.limiter = store, audit, limiter
        self.cookie = session_cookie(tls)
        self.sessions = Sessions()

    def refuse_if_locked(self, request: Request) -> None:
        wait = self.limiter.retry_after(client_of(request))
        if wait:
            raise HTTPException(
                429,
                "too many failed sign-in attempts from this client; try again later",
                headers={"Retry-After": str(wait)},
            )

    def failure(self, request: Request, reason: str, key: str | None) -> None:
        client = client_of(request)
        # Only a well-formed public id: never a piece of a mistyped secret, never junk.
        found = _KEY_ID.match(key or "")
        key_id = found.group(1) if found else None
        self.audit.append(
            "server.auth_failed",
            {"client": client, "path": request.url.path, "reason": reason, "key_id": key_id},
        )
        if self.limiter.failed(client):
            self.audit.append(
                "server.client_locked", {"client": client, "window_s": self.limiter.window}
            )

    def check_key(self, request: Request, key: str) -> KeyRecord:
        """Verify a presented key (bearer or sign-in form); failures count against the client."""
        self.refuse_if_locked(request)
        record, reason = self.store.verify(key)
        if record is None:
            self.failure(request, reason, key)
            raise HTTPException(
                401, "invalid, expired or revoked key", headers={"WWW-Authenticate": "Bearer"}
            )
        return record

    def authenticate_cached(self, request: Request) -> Principal | None:
        """``authenticate`` for a bearer key verified before, without hashing or reading
        the keys file (so it may run on the event loop); None: call ``authenticate``."""
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        self.refuse_if_locked(request)
        record = self.store.verified(key.strip())
        if record is None:
            return None
        return Principal(record.id, record.name, record.role, "bearer")

    def authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, key = header.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise HTTPException(
                    401, "use 'Authorization: Bearer <key>'", headers={"WWW-Authenticate": "Bearer"}
                )
            record = self.check_key(request, key.strip())
            return Principal(record.id, record.name, record.role, "bearer")
        token = request.cookies.get(self.cookie)
        session = self.sessions.get(token) if token else None
        if session is not None:
            self.refuse_if_locked(request)
            stored = self.store.get(session.key_id)
            if stored is not None and stored.status() == "active":
                return Principal(stored.id, stored.name, stored.role, "session", session.csrf)
            self.sessions.close(token or "")
        raise HTTPException(
            401,
            "authentication required: send 'Authorization: Bearer <key>' or sign in at /",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @staticmethod
    def check_csrf(request: Request, principal: Principal, form_token: str | None = None) -> None:
        """Cookie-authenticated state changes must echo the session's CSRF token."""
        if principal.via != "session" or request.method in SAFE_METHODS:
            return
        sent = request.headers.get(CSRF_HEADER) or form_token or ""
        if not principal.csrf or not hmac.compare_digest(sent, principal.csrf):
            raise HTTPException(403, "missing or wrong CSRF token")

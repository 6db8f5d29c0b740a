"""Local listeners for the guard tests: a protocol-accurate fake Elasticsearch/OpenSearch
(the only store that cannot be installed here), a stand-in of safemirror's server, a
webhook receiver and a minimal SMTP server (raw TCP servers are in ``guard_tcp``)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import free_port

HOST = "127.0.0.1"


def wait_until(predicate: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


class HttpThread:
    """A ThreadingHTTPServer with ``handler`` on a free loopback port, in a daemon thread."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], host: str = HOST, port: int = 0
    ) -> None:
        self.server = ThreadingHTTPServer((host, port or free_port()), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- fake Elasticsearch / OpenSearch ------------------------------------------------------

ROOTS: dict[str, dict[str, Any]] = {
    "es7": {
        "name": "es-node-1",
        "cluster_name": "analytics",
        "cluster_uuid": "m9Ukq1J9T8OxpLvbq0Wmxw",
        "version": {
            "number": "7.17.18",
            "build_flavor": "default",
            "build_type": "docker",
            "build_hash": "8682172c2130b9a411b1bd5ff37c9792367de6b0",
            "build_date": "2024-02-02T12:04:59.691750271Z",
            "build_snapshot": False,
            "lucene_version": "8.11.1",
            "minimum_wire_compatibility_version": "6.8.0",
            "minimum_index_compatibility_version": "6.0.0-beta1",
        },
        "tagline": "You Know, for Search",
    },
    "es8": {
        "name": "es-node-1",
        "cluster_name": "analytics",
        "cluster_uuid": "kJ3nF0cDQpO2mJ8xq1Y0bg",
        "version": {
            "number": "8.12.2",
            "build_flavor": "default",
            "build_type": "docker",
            "build_hash": "48a287ab9497e852de30327444b0809e55d46466",
            "build_date": "2024-02-19T10:04:32.774273190Z",
            "build_snapshot": False,
            "lucene_version": "9.9.2",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    },
    "opensearch": {
        "name": "opensearch-node1",
        "cluster_name": "opensearch-cluster",
        "cluster_uuid": "v1S5H9eETxqpGvV0aBqfJg",
        "version": {
            "distribution": "opensearch",
            "number": "2.11.1",
            "build_type": "tar",
            "build_hash": "6b1986e964d440be9137eba1413015c31c5a7752",
            "build_date": "2023-11-29T21:43:10.135035992Z",
            "build_snapshot": False,
            "lucene_version": "9.7.0",
            "minimum_wire_compatibility_version": "7.10.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "The OpenSearch Project: https://opensearch.org/",
    },
}

INDICES = [
    {
        "health": "green",
        "status": "open",
        "index": "users",
        "uuid": "Yk3_fZ3zQ1C6a4n6mXk3Jw",
        "pri": "1",
        "rep": "0",
        "docs.count": "2400000",
        "docs.deleted": "0",
        "store.size": "1.1gb",
        "pri.store.size": "1.1gb",
    },
    {
        "health": "green",
        "status": "open",
        "index": "devices",
        "uuid": "a8Yb3kQzS4mJ1xv2wPq9Zg",
        "pri": "1",
        "rep": "0",
        "docs.count": "6000000",
        "docs.deleted": "12",
        "store.size": "2.3gb",
        "pri.store.size": "2.3gb",
    },
]

ES_CHALLENGES = ['Basic realm="security" charset="UTF-8"', 'Bearer realm="security"', "ApiKey"]
OS_CHALLENGE = 'Basic realm="OpenSearch Security"'


def es_security_error(status: int, reason: str, challenges: list[str] | None) -> dict[str, Any]:
    cause: dict[str, Any] = {"type": "security_exception", "reason": reason}
    if challenges:
        cause["header"] = {"WWW-Authenticate": challenges}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def es_json(body: Any, path: str) -> str:
    """ES pretty-prints `/` (and any `?pretty`) with Jackson's ``"key" : value`` style."""
    if urlsplit(path).path == "/" or "pretty" in path:
        return json.dumps(body, indent=2, separators=(",", " : ")) + "\n"
    return json.dumps(body, separators=(",", ":"))


class FakeSearch(HttpThread):
    """``flavor``: es7 | es8 | opensearch. ``mode``: open (security off), auth (401 without
    credentials), anonymous (an anonymous role that may call ``/`` but gets 403 on index
    APIs), denied (anonymous role without any privilege: 403 everywhere).
    ``accept`` is a (user, password) the cluster accepts (e.g. OpenSearch's admin:admin)."""

    def __init__(self, flavor: str, mode: str, accept: tuple[str, str] | None = None) -> None:
        self.flavor, self.mode, self.accept = flavor, mode, accept
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def send_response(self, code: int, message: str | None = None) -> None:
                # like ES (netty): answer in the request's HTTP version, no Server/Date header
                self.protocol_version = (
                    "HTTP/1.0" if self.request_version == "HTTP/1.0" else "HTTP/1.1"
                )
                self.send_response_only(code, message)

            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("Authorization")))
                outer.answer(self)

        super().__init__(Handler)

    def _user(self, handler: BaseHTTPRequestHandler) -> str | None:
        import base64

        header = handler.headers.get("Authorization") or ""
        if not header.startswith("Basic ") or self.accept is None:
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if (user, password) == self.accept else None

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        raw = (body if isinstance(body, str) else es_json(body, handler.path)).encode()
        handler.send_response(status)
        ctype = "application/json; charset=UTF-8" if not isinstance(body, str) else "text/plain"
        handler.send_header("content-type", ctype)
        handler.send_header("content-length", str(len(raw)))
        if self.flavor == "es8" and status == 200:
            handler.send_header("X-elastic-product", "Elasticsearch")
        for name, value in headers or []:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        path, query = parts.path, parse_qs(parts.query)
        authed = self._user(handler) is not None
        if path == "/":
            kind, action = "root", "cluster:monitor/main"
        elif path == "/_cat/indices":
            kind, action = "cat", "indices:monitor/settings/get"
        else:
            self._send(
                handler, 404, {"error": "no handler found for uri [" + path + "]", "status": 404}
            )
            return
        if self.mode == "open" or authed:
            self._ok(handler, kind, query)
        elif self.mode == "auth" or handler.headers.get("Authorization"):
            self._unauthorized(handler, path)
        elif self.mode == "anonymous" and kind == "root":
            self._ok(handler, kind, query)
        else:
            self._forbidden(handler, action)

    def _ok(self, handler: BaseHTTPRequestHandler, kind: str, query: dict[str, list[str]]) -> None:
        if kind == "root":
            self._send(handler, 200, ROOTS[self.flavor])
            return
        columns = query.get("h", [""])[0].split(",") if query.get("h") else None
        rows = [
            {k: v for k, v in row.items() if columns is None or k in columns} for row in INDICES
        ]
        self._send(handler, 200, rows)

    def _unauthorized(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        if self.flavor == "opensearch":
            self._send(handler, 401, "Unauthorized", [("WWW-Authenticate", OS_CHALLENGE)])
            return
        reason = f"missing authentication credentials for REST request [{path}]"
        self._send(
            handler,
            401,
            es_security_error(401, reason, ES_CHALLENGES),
            [("WWW-Authenticate", c) for c in ES_CHALLENGES],
        )

    def _forbidden(self, handler: BaseHTTPRequestHandler, action: str) -> None:
        if self.flavor == "opensearch":
            reason = (
                f"no permissions for [{action}] and User [name=opendistro_security_anonymous, "
                "backend_roles=[opendistro_security_anonymous_backendrole], "
                "requestedTenant=null]"
            )
        else:
            reason = (
                f"action [{action}] is unauthorized for user [_anonymous] with effective "
                "roles [anonymous_role], this action is granted by the cluster "
                "privileges [monitor,manage,all]"
            )
        self._send(handler, 403, es_security_error(403, reason, None))


# --- safemirror server stand-in -----------------------------------------------------------


class SafemirrorStandin:
    """FastAPI app shaped like safemirror's server: health is open; other /api routes need
    ``Authorization: Bearer good-key`` unless ``open`` — or until ``lock_file`` exists
    (that is the lock-down a remediation command performs)."""

    def __init__(self, lock_file: Path, open_: bool = True) -> None:
        import uvicorn
        from fastapi import FastAPI, Header, HTTPException

        app = FastAPI()

        def check(authorization: str | None) -> None:
            locked = lock_file.exists() or not open_
            if locked and authorization != "Bearer good-key":
                raise HTTPException(
                    401, "missing or bad API key", headers={"WWW-Authenticate": "Bearer"}
                )

        @app.get("/api/health")
        def health() -> dict[str, str]:
            return {"status": "ok", "version": "0.1.0"}

        @app.get("/api/metrics")
        def metrics(authorization: str | None = Header(default=None)) -> dict[str, Any]:
            check(authorization)
            return {"metrics": ["device_activations", "failed_connection_rate"]}

        @app.post("/api/sql")  # POST only, as the real server serves it (GET: 405)
        def sql(
            body: dict[str, str], authorization: str | None = Header(default=None)
        ) -> dict[str, Any]:
            check(authorization)
            return {"columns": ["?column?"], "rows": [[1]]} if body.get("sql") else {}

        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        config = uvicorn.Config(app, host=HOST, port=self.port, log_level="error", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, 10)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


# --- alert receivers ----------------------------------------------------------------------


class WebhookReceiver(HttpThread):
    """Collects JSON POSTs with the time each arrived."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[float, dict[str, Any], dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.received.append((time.monotonic(), json.loads(body), dict(self.headers)))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

        super().__init__(Handler)

    def events(self) -> list[str]:
        return [body["event"] for _, body, _ in self.received]


class SmtpReceiver:
    """A minimal SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
    QUIT) on a free port, in its own thread and event loop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[tuple[float, str, list[str], Message]] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._session, HOST, self.port)
            )
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(5)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        say("220 guard-test ESMTP ready")
        sender, rcpts = "", []
        try:
            while True:
                line = (await asyncio.wait_for(reader.readline(), 10)).decode().rstrip("\r\n")
                verb = line[:4].upper()
                if verb == "EHLO":
                    say("250-guard-test")
                    say("250 8BITMIME")
                elif verb == "HELO":
                    say("250 guard-test")
                elif verb == "MAIL":
                    sender, rcpts = line.split(":", 1)[1].strip().strip("<>"), []
                    say("250 OK")
                elif verb == "RCPT":
                    rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                    say("250 OK")
                elif verb == "DATA":
                    say("354 End data with <CR><LF>.<CR><LF>")
                    await writer.drain()
                    data = await asyncio.wait_for(reader.readuntil(b"\r\n.\r\n"), 10)
                    body = b"\r\n".join(
                        ln[1:] if ln.startswith(b"..") else ln for ln in data[:-5].split(b"\r\n")
                    )
                    self.messages.append(
                        (time.monotonic(), sender, rcpts, message_from_bytes(body))
                    )
                    say("250 OK queued")
                elif verb in {"RSET", "NOOP"}:
                    say("250 OK")
                elif verb == "QUIT" or not line:
                    say("221 bye")
                    await writer.drain()
                    break
                else:
                    say("502 command not implemented")
                await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

"""A loopback TCP proxy in front of a real server that fails on cue: it resets a chosen
connection, stops passing the client's requests on after the first few, or slows every
answer down, so a probe meets trouble after it has already learned something; a TLS
terminator that puts a real server behind a TLS-only port; and a RabbitMQ management API
stand-in that fails on cue."""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.guard.guard_fakes import HOST, HttpThread
from tests.guard.guard_support import self_signed
from tests.guard.guard_tcp import Listener


@dataclass(frozen=True)
class Plan:
    """What one proxied connection meets."""

    reset: bool = False  # accepted, then a TCP reset before any byte
    requests: int | None = None  # pass on only this many client sends, swallow the rest
    delay: float = 0.0  # hold each chunk of the server's answer this long


PASS = Plan()


def reset(conn: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN (what a crashing or overloaded peer does)."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


class TcpProxy(Listener):
    """Forwards ``HOST:port`` to ``HOST:upstream``; connection *i* meets ``plans[i]`` (the
    last plan for every later one)."""

    def __init__(self, upstream: int, plans: Sequence[Plan]) -> None:
        self.upstream, self.plans = upstream, list(plans) or [PASS]
        self.accepted = 0
        self.open: list[socket.socket] = []
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        plan = self.plans[min(self.accepted, len(self.plans) - 1)]
        self.accepted += 1
        if plan.reset:
            reset(conn)
            return
        try:
            server = socket.create_connection((HOST, self.upstream), timeout=5)
        except OSError:
            reset(conn)
            return
        self.open += [conn, server]
        for args in ((conn, server, plan.requests, 0.0), (server, conn, None, plan.delay)):
            threading.Thread(target=self._pump, args=args, daemon=True).start()

    def _pump(
        self, src: socket.socket, dst: socket.socket, limit: int | None, delay: float
    ) -> None:
        src.settimeout(None)
        sent = 0
        while self.running:
            try:
                data = src.recv(65536)
            except OSError:
                break
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                break
            if limit is not None and sent >= limit:
                continue  # held: the server never hears of it
            time.sleep(delay)
            try:
                dst.sendall(data)
            except OSError:
                break
            sent += 1

    def stop(self) -> None:
        self.running = False
        for conn in self.open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        super().stop()


class TlsProxy(Listener):
    """A TLS-only port in front of ``HOST:upstream`` (as a TLS terminator, or NATS with
    ``handshake_first``, presents a server): TLS comes first, the plaintext inside goes to
    the real server. A client that speaks first in plaintext is answered with a TLS alert;
    one that waits for the server to speak waits in vain. With ``client_certs`` it ends the
    handshake of a client without a certificate signed by its own."""

    def __init__(self, upstream: int, workdir: Path, *, client_certs: bool = False) -> None:
        cert, key = self_signed(workdir)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        if client_certs:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(cert)
        self.upstream = upstream
        self.open: list[socket.socket] = []
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def _serve_one(self, conn: socket.socket) -> None:
        self.open.append(conn)
        try:
            conn.settimeout(10)
            secure = self.context.wrap_socket(conn, server_side=True)
            server = socket.create_connection((HOST, self.upstream), timeout=5)
        except OSError:  # ssl.SSLError too: plaintext, or a client that never shook hands
            conn.close()
            return
        self.open += [secure, server]
        peer = {secure: server, server: secure}
        while self.running:
            ready = [secure] if secure.pending() else select.select(list(peer), [], [], 0.1)[0]
            for source in ready:
                try:
                    data = source.recv(65536)
                    if data:
                        peer[source].sendall(data)
                except ssl.SSLWantReadError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    for sock in peer:
                        sock.close()
                    return

    def stop(self) -> None:
        self.running = False
        for conn in self.open:
            with contextlib.suppress(OSError):
                conn.close()
        super().stop()


class Management(HttpThread):
    """A management API stand-in: 401 without credentials; with them it resets the
    connection, hangs, or trickles its answer one byte every 0.3 s. In mode ``silent`` it
    hangs on every request, the anonymous one too."""

    def __init__(self, mode: str) -> None:
        release = self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if mode == "silent":
                    release.wait(30)
                elif "Authorization" not in self.headers:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="RabbitMQ Management"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif mode == "reset":
                    reset(self.connection)
                    self.close_connection = True
                elif mode == "hang":
                    release.wait(30)
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    for _ in range(100):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        if release.wait(0.3):
                            return

        super().__init__(Handler)

    def stop(self) -> None:
        self.release.set()
        super().stop()

"""A loopback TCP proxy in front of a real server that fails on cue: it resets a chosen
connection, stops passing the client's requests on after the first few, or slows every
answer down, so a probe meets trouble after it has already learned something."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from tests.guard.guard_fakes import HOST, Listener


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

"""Raw TCP servers for the guard tests: a listener base, a canned or silent server, and a
blackhole (an address and port that drop connection attempts)."""

from __future__ import annotations

import socket
import threading

HOST = "127.0.0.1"


class Listener:
    """Accepts connections on a free loopback port in a thread of its own and hands each
    to ``handle`` (on ``host`` and ``port`` when given). A subclass sets its own attributes
    before calling ``__init__``."""

    def __init__(self, host: str = HOST, port: int = 0) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


class TcpServer(Listener):
    """Accepts connections on a free port; sends ``greet`` on connect, ``reply`` after the
    client's first bytes, then stays silent. With ``close_after`` it hangs up instead: at
    once after a greeting alone, after the client's next bytes when it replied (a client
    that reads a reply sent ahead of its request must have sent that request, or it could
    find the connection reset before it reads)."""

    def __init__(
        self,
        *,
        greet: bytes | None = None,
        reply: bytes | None = None,
        close_after: bool = False,
        host: str = HOST,
        port: int = 0,
    ) -> None:
        self.greet, self.reply, self.close_after = greet, reply, close_after
        self.held: list[socket.socket] = []
        super().__init__(host, port)

    def handle(self, conn: socket.socket) -> None:
        try:
            if self.greet is not None:
                conn.sendall(self.greet)
            if self.reply is not None:
                conn.settimeout(5)
                conn.recv(4096)
                conn.sendall(self.reply)
                if self.close_after:
                    conn.recv(4096)
        except OSError:
            pass
        if self.close_after:
            conn.close()
        else:
            self.held.append(conn)

    def stop(self) -> None:
        super().stop()
        for conn in self.held:
            conn.close()


class Blackhole:
    """An address and port that drop connection attempts silently (no answer, no refusal),
    like a firewalled host: a listener that never accepts, its backlog filled."""

    def __init__(self, host: str = HOST, port: int = 0) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, port))
        self.sock.listen(0)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(8):
            probe = socket.socket()
            probe.settimeout(0.3)
            try:
                probe.connect((host, self.port))
            except TimeoutError:
                probe.close()
                return  # the backlog is full: further attempts go unanswered
            self.fillers.append(probe)
        self.stop()
        raise RuntimeError("could not fill the listen backlog: the port still answers")

    def stop(self) -> None:
        for conn in self.fillers:
            conn.close()
        self.sock.close()

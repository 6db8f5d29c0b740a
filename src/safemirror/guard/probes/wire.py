"""Bounded asyncio TCP conversations for the raw-protocol probes."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from types import TracebackType

from safemirror.guard.model import ProbeError
from safemirror.guard.resolve import connect_host

#: A name's next address is tried this long after the previous one, while it is still
#: pending (RFC 8305's 250 ms): one address that drops packets cannot use up the timeout.
HAPPY_EYEBALLS_DELAY = 0.25


def insecure_tls() -> ssl.SSLContext:
    """A client context that completes any handshake: the guard only asks *whether* TLS is
    offered, and sends nothing secret over it."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def looks_like_tls(data: bytes) -> bool:
    """A TLS record (alert or handshake) where a plaintext reply was expected."""
    return len(data) >= 3 and data[0] in (0x15, 0x16) and data[1] == 0x03


class Wire:
    """One TCP (optionally TLS) connection where every step is bounded by ``timeout``."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, timeout: float
    ) -> None:
        self.reader, self.writer, self.host, self.timeout = reader, writer, host, timeout

    @property
    def peer(self) -> str | None:
        """The address that answered."""
        peername = self.writer.get_extra_info("peername")
        return str(peername[0]) if peername else None

    @classmethod
    async def open(cls, host: str, port: int, timeout: float, *, tls: bool = False) -> Wire:
        """Connect within ``timeout``: to the address the probe is pinned to, else to the
        first of ``host``'s addresses that answers, tried in turn without waiting for the
        previous one to time out."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    connect_host(host),
                    port,
                    ssl=insecure_tls() if tls else None,
                    server_hostname=host if tls else None,
                    limit=1 << 20,
                    happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
                ),
                timeout,
            )
        except TimeoutError:
            raise ProbeError(f"no TCP answer within {timeout:g} s") from None
        except ConnectionRefusedError:
            raise ProbeError("connection refused") from None
        except (ConnectionResetError, ConnectionAbortedError):
            # the handshake went through (something listens) and the server reset at once:
            # the same event as a reset after the first read, however the race fell
            raise ProbeError("connection lost: reset as it opened", connected=True) from None
        except ssl.SSLError as exc:
            raise ProbeError(f"TLS handshake failed ({exc.reason})", connected=True) from None
        except OSError as exc:
            raise ProbeError(f"cannot connect: {exc.strerror or exc}") from None
        return cls(reader, writer, host, timeout)

    def _silent(self) -> ProbeError:
        return ProbeError(f"connected, but no answer within {self.timeout:g} s", connected=True)

    async def send(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await asyncio.wait_for(self.writer.drain(), self.timeout)
        except TimeoutError:
            raise self._silent() from None
        except OSError as exc:
            raise ProbeError(f"connection lost: {exc.strerror or exc}", connected=True) from None

    async def read_exact(self, n: int) -> bytes:
        try:
            return await asyncio.wait_for(self.reader.readexactly(n), self.timeout)
        except TimeoutError:
            raise self._silent() from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial and looks_like_tls(exc.partial):
                raise ProbeError("the server speaks TLS only", connected=True) from None
            raise ProbeError("the server closed the connection", connected=True) from None
        except (OSError, ssl.SSLError) as exc:
            raise ProbeError(f"connection lost: {exc}", connected=True) from None

    async def read_line(self, limit: int = 1 << 16) -> bytes:
        """Read up to and including CRLF."""
        try:
            line = await asyncio.wait_for(self.reader.readuntil(b"\r\n"), self.timeout)
        except TimeoutError:
            raise self._silent() from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial and looks_like_tls(exc.partial):
                raise ProbeError("the server speaks TLS only", connected=True) from None
            raise ProbeError("the server closed the connection", connected=True) from None
        except asyncio.LimitOverrunError:
            raise ProbeError("the server sent an over-long line", connected=True) from None
        except (OSError, ssl.SSLError) as exc:
            raise ProbeError(f"connection lost: {exc}", connected=True) from None
        if len(line) > limit:
            raise ProbeError("the server sent an over-long line", connected=True)
        return line

    async def start_tls(self) -> None:
        try:
            await asyncio.wait_for(
                self.writer.start_tls(insecure_tls(), server_hostname=self.host), self.timeout
            )
        except TimeoutError:
            raise self._silent() from None
        except (ssl.SSLError, OSError) as exc:
            raise ProbeError(f"TLS upgrade failed: {exc}", connected=True) from None

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(TimeoutError, OSError, ssl.SSLError):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)

    async def __aenter__(self) -> Wire:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def tls_handshake_ok(host: str, port: int, timeout: float) -> bool:
    """Whether a TLS handshake completes on ``host:port`` (TLS offered there)."""
    try:
        wire = await Wire.open(host, port, timeout, tls=True)
    except ProbeError:
        return False
    await wire.close()
    return True


async def speaks_tls_only(exc: ProbeError, host: str, port: int, timeout: float) -> bool:
    """Whether a plaintext conversation that failed with ``exc`` met a TLS-only port: it
    was connected (the server then reset, closed, answered with a TLS alert or stayed
    silent) and a TLS handshake completes there. Callers ask only while the server has
    said nothing of its own protocol, and then retry over TLS."""
    return exc.connected and await tls_handshake_ok(host, port, timeout)


async def plaintext_or_tls(
    talk: Callable[[bool], Awaitable[None]],
    *,
    tls: bool,
    spoke: Callable[[], bool],
    host: str,
    port: int,
    timeout: float,
) -> bool:
    """Run ``talk(tls)``; when a plaintext attempt fails before the server said anything
    of its own protocol (``spoke()`` is False) on a port that speaks TLS only, run
    ``talk(True)``. Whether TLS was used."""
    try:
        await talk(tls)
        return tls
    except ProbeError as exc:
        if tls or spoke() or not await speaks_tls_only(exc, host, port, timeout):
            raise
    await talk(True)
    return True

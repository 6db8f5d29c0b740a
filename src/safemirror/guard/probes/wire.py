"""Bounded asyncio TCP conversations for the raw-protocol probes."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from types import TracebackType

from safemirror.guard.model import ProbeError


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

    @classmethod
    async def open(cls, host: str, port: int, timeout: float, *, tls: bool = False) -> Wire:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host,
                    port,
                    ssl=insecure_tls() if tls else None,
                    server_hostname=host if tls else None,
                    limit=1 << 20,
                ),
                timeout,
            )
        except TimeoutError:
            raise ProbeError(f"no TCP answer within {timeout:g} s") from None
        except ConnectionRefusedError:
            raise ProbeError("connection refused") from None
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

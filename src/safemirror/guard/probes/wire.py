"""Bounded asyncio TCP conversations for the raw-protocol probes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from safemirror.guard.model import Observation, ProbeError
from safemirror.guard.resolve import connect_host

#: A name's next address is tried this long after the previous one, while it is still
#: pending (RFC 8305's 250 ms): one address that drops packets cannot use up the timeout.
HAPPY_EYEBALLS_DELAY = 0.25

_HANDSHAKE, _CERTIFICATE_REQUEST = 22, 13  # TLS record content type, handshake message type
#: Alerts that name the missing client certificate (TLS 1.3's certificate_required; Go's
#: TLS 1.2 bad_certificate, sent when the client gave none).
_CERT_ALERTS = ("CERTIFICATE_REQUIRED", "ALERT_BAD_CERTIFICATE")
CLIENT_CERT_NOTE = "requires a client certificate"


class ClientCertRefused(ProbeError):
    """The server asked for a client certificate and ended the TLS session, before saying
    anything, when the probe gave none: it refuses unauthenticated clients."""

    def __init__(self) -> None:
        super().__init__("refused the TLS session without a client certificate", connected=True)


def client_cert_required(obs: Observation) -> None:
    """Record a ``ClientCertRefused``: the certificate is the credential, and it is asked
    for over TLS, so the port is secure on both counts."""
    obs.reachable = True
    obs.auth_required = True
    obs.tls_offered = obs.tls_required = True
    if CLIENT_CERT_NOTE not in obs.notes:
        obs.notes.append(CLIENT_CERT_NOTE)


class TlsLog:
    """What the server's handshake said, as far as the guard cares: a CertificateRequest."""

    def __init__(self) -> None:
        self.cert_requested = False

    def __call__(
        self, conn: Any, direction: str, version: Any, kind: Any, msg: Any, data: Any
    ) -> None:
        if direction == "read" and kind == _HANDSHAKE and msg == _CERTIFICATE_REQUEST:
            self.cert_requested = True


def insecure_tls(log: TlsLog | None = None) -> ssl.SSLContext:
    """A client context that completes any handshake: the guard only asks *whether* TLS is
    offered, and sends nothing secret over it. ``log`` is told of a CertificateRequest
    (a context of its own: the callback is the context's); without one, one shared
    context."""
    return _plain_tls() if log is None else _new_tls(log)


@functools.cache
def _plain_tls() -> ssl.SSLContext:
    return _new_tls(None)


def _new_tls(log: TlsLog | None) -> ssl.SSLContext:
    """No CA certificates are loaded (none are verified): reading the system's bundle
    blocks the event loop for a noticeable time, and a sweep that did so per connection
    would stall every other probe's clock."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if log is not None:
        ctx._msg_callback = log  # type: ignore[attr-defined]  # OpenSSL's message callback
    return ctx


def _refused_cert(log: TlsLog | None, exc: BaseException) -> bool:
    """Whether ``exc``, ending a TLS session before the server sent a byte of its own
    protocol, is a refusal for want of a client certificate: an alert naming it, or any
    alert, reset or close after the server asked for one (servers that make the
    certificate optional go on without it, and then speak)."""
    reason = getattr(exc, "reason", None) or ""
    if isinstance(exc, ssl.SSLError) and any(a in str(reason).upper() for a in _CERT_ALERTS):
        return True
    if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
        return False  # the server said something first
    ended = isinstance(exc, ssl.SSLError | asyncio.IncompleteReadError | ConnectionError)
    return ended and log is not None and log.cert_requested


def looks_like_tls(data: bytes) -> bool:
    """A TLS record (alert or handshake) where a plaintext reply was expected."""
    return len(data) >= 3 and data[0] in (0x15, 0x16) and data[1] == 0x03


class Wire:
    """One TCP (optionally TLS) connection where every step is bounded by ``timeout``."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, timeout: float
    ) -> None:
        self.reader, self.writer, self.host, self.timeout = reader, writer, host, timeout
        self._tls: TlsLog | None = None  # the handshake's log, once TLS is on
        self._quiet = True  # nothing read since TLS came on

    def _lost(self, exc: BaseException, reason: str) -> ProbeError:
        """``reason`` as a ProbeError, unless ``exc`` ends a TLS session the server refused
        without a client certificate."""
        if self._tls is not None and self._quiet and _refused_cert(self._tls, exc):
            return ClientCertRefused()
        return ProbeError(reason, connected=True)

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
        log = TlsLog() if tls else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    connect_host(host),
                    port,
                    ssl=insecure_tls(log) if tls else None,
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
        except (ConnectionResetError, ConnectionAbortedError, ssl.SSLError) as exc:
            if _refused_cert(log, exc):
                raise ClientCertRefused() from None
            if isinstance(exc, ssl.SSLError):
                raise ProbeError(f"TLS handshake failed ({exc.reason})", connected=True) from None
            # the handshake went through (something listens) and the server reset at once:
            # the same event as a reset after the first read, however the race fell
            raise ProbeError("connection lost: reset as it opened", connected=True) from None
        except OSError as exc:
            raise ProbeError(f"cannot connect: {exc.strerror or exc}") from None
        wire = cls(reader, writer, host, timeout)
        wire._tls = log
        return wire

    def _silent(self) -> ProbeError:
        return ProbeError(f"connected, but no answer within {self.timeout:g} s", connected=True)

    async def send(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await asyncio.wait_for(self.writer.drain(), self.timeout)
        except TimeoutError:
            raise self._silent() from None
        except OSError as exc:
            raise self._lost(exc, f"connection lost: {exc.strerror or exc}") from None

    async def read_exact(self, n: int) -> bytes:
        try:
            data = await asyncio.wait_for(self.reader.readexactly(n), self.timeout)
        except TimeoutError:
            raise self._silent() from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial and looks_like_tls(exc.partial):
                raise ProbeError("the server speaks TLS only", connected=True) from None
            raise self._lost(exc, "the server closed the connection") from None
        except (OSError, ssl.SSLError) as exc:
            raise self._lost(exc, f"connection lost: {exc}") from None
        self._quiet = False
        return data

    async def read_line(self, limit: int = 1 << 16) -> bytes:
        """Read up to and including CRLF."""
        try:
            line = await asyncio.wait_for(self.reader.readuntil(b"\r\n"), self.timeout)
        except TimeoutError:
            raise self._silent() from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial and looks_like_tls(exc.partial):
                raise ProbeError("the server speaks TLS only", connected=True) from None
            raise self._lost(exc, "the server closed the connection") from None
        except asyncio.LimitOverrunError:
            raise ProbeError("the server sent an over-long line", connected=True) from None
        except (OSError, ssl.SSLError) as exc:
            raise self._lost(exc, f"connection lost: {exc}") from None
        self._quiet = False
        if len(line) > limit:
            raise ProbeError("the server sent an over-long line", connected=True)
        return line

    async def start_tls(self) -> None:
        self._tls, self._quiet = TlsLog(), True
        try:
            await asyncio.wait_for(
                self.writer.start_tls(insecure_tls(self._tls), server_hostname=self.host),
                self.timeout,
            )
        except TimeoutError:
            raise self._silent() from None
        except (ssl.SSLError, OSError) as exc:
            raise self._lost(exc, f"TLS upgrade failed: {exc}") from None

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
    """Whether a TLS handshake completes on ``host:port`` (TLS offered there), or is
    refused for want of a client certificate (TLS 1.2 refuses in the handshake)."""
    try:
        wire = await Wire.open(host, port, timeout, tls=True)
    except ClientCertRefused:
        return True
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

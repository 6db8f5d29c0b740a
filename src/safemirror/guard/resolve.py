"""Resolve a target's host to its addresses, and pin a probe to one of them.

A name may resolve to several addresses (round-robin DNS, a dual-stack host, replicas).
The scan resolves it once and probes each address on its own, pinned: every connection
the probe makes to the target's host (raw TCP or HTTP) goes to that address, while TLS
server names and HTTP ``Host`` headers keep the name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore

from safemirror.guard.address import zone_unquoted
from safemirror.guard.model import ProbeError

#: (host as written in the targets file, address the probe running in this task uses).
PINNED: ContextVar[tuple[str, str] | None] = ContextVar("guard_pinned_address", default=None)


def is_ip(host: str) -> bool:
    """Whether ``host`` is an IP address literal (IPv6 with or without a zone id)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def connect_host(host: str) -> str:
    """Where a connection to ``host`` goes: the pinned address when the probe running in
    this task is pinned to one for that host, else ``host`` itself."""
    pinned = PINNED.get()
    return pinned[1] if pinned is not None and pinned[0] == host else host


@contextmanager
def pinned(host: str, address: str) -> Iterator[None]:
    """Send this task's connections to ``host`` to ``address`` while the block runs."""
    token = PINNED.set((host, address))
    try:
        yield
    finally:
        PINNED.reset(token)


def _address(info: tuple[Any, ...]) -> str:
    family, sockaddr = info[0], info[4]
    ip = str(sockaddr[0])
    if family == socket.AF_INET6 and len(sockaddr) > 3 and sockaddr[3] and "%" not in ip:
        return f"{ip}%{sockaddr[3]}"  # a link-local address needs its interface
    return ip


async def addresses(host: str, timeout: float) -> list[str]:
    """The distinct addresses ``host`` resolves to, in the resolver's order (an IP literal
    is its own only address); ``ProbeError`` if it does not resolve within ``timeout``."""
    if is_ip(host):
        return [host]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), timeout
        )
    except TimeoutError:
        raise ProbeError(f"cannot resolve {host}: no answer within {timeout:g} s") from None
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ProbeError(f"cannot resolve {host}: {reason}") from None
    found = list(dict.fromkeys(_address(info) for info in infos))
    if not found:
        raise ProbeError(f"cannot resolve {host}: no address")
    return found


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, with TCP connections sent to the pinned address (the
    TLS server name and the ``Host`` header keep the URL's host). httpcore hands it the
    host as the URL spells it: an IPv6 zone id's ``%25`` is read as ``%``."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self.inner.connect_tcp(
            connect_host(zone_unquoted(host)), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        return await self.inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)

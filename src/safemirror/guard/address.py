"""Parse target addresses (``host:port``, ``[v6]:port`` or URLs) and classify IP scope."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Endpoint:
    """Where a probe connects: host and port, plus the URL for HTTP kinds."""

    host: str
    port: int
    url: str | None = None

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def display(self) -> str:
        return self.url or self.hostport

    @property
    def tls(self) -> bool:
        return bool(self.url and self.url.startswith("https://"))


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"port must be a number from 1 to 65535, got {text!r}")
    return int(text)


def parse_hostport(text: str, default_port: int) -> Endpoint:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``; rejects URLs and blanks."""
    text = text.strip()
    if not text:
        raise ValueError("address is empty")
    if "://" in text or "/" in text or "@" in text:
        raise ValueError(f"expected host:port, got {text!r}")
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError(f"expected [ipv6]:port, got {text!r}")
        port = _port(rest[1:]) if rest else default_port
    elif text.count(":") > 1:  # bare IPv6 without brackets
        host, port = text, default_port
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
        port = _port(port_text)
    else:
        host, port = text, default_port
    if not host:
        raise ValueError(f"no host in {text!r}")
    return Endpoint(host, port)


def zone_unquoted(host: str) -> str:
    """An IPv6 host as written in a URL, its zone id's ``%25`` (RFC 6874) made ``%``:
    ``fe80::1%25eth0`` is ``fe80::1%eth0`` (a host name never holds a ``%``)."""
    return host.replace("%25", "%", 1) if ":" in host else host


def parse_url(text: str, default_port: int) -> Endpoint:
    """An ``http(s)://host[:port][/base]`` URL; ``host:port`` means ``http://host:port``."""
    text = text.strip()
    if "://" not in text:
        ep = parse_hostport(text, default_port)
        return Endpoint(ep.host, ep.port, f"http://{ep.hostport}")
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"}:
        raise ValueError(f"URL scheme must be http or https, got {parts.scheme!r}")
    if parts.username or parts.password:
        raise ValueError("the address must not carry credentials (the guard probes as an outsider)")
    if not parts.hostname:
        raise ValueError(f"no host in {text!r}")
    if parts.query or parts.fragment:
        raise ValueError("the URL must not carry a query or fragment")
    try:
        given = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {text!r}") from exc
    if given == 0:  # not "no port": the store is not probed on another one
        raise ValueError(f"port must be a number from 1 to 65535, got '0' in {text!r}")
    port = given or (443 if parts.scheme == "https" else default_port)
    host = zone_unquoted(parts.hostname)
    shown = f"[{host.replace('%', '%25')}]" if ":" in host else host
    base = parts.path.rstrip("/")
    return Endpoint(host, port, f"{parts.scheme}://{shown}:{port}{base}")


def scope_of(ip: str) -> str:
    """``loopback``, ``all interfaces`` (wildcard), ``private`` or ``public``."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if addr.is_unspecified:
        return "all interfaces"
    if addr.is_loopback:
        return "loopback"
    if addr.is_private or addr.is_link_local:
        return "private"
    return "public"


def is_loopback_host(host: str) -> bool:
    return host == "localhost" or scope_of(host) == "loopback"

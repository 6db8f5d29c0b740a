"""Listening TCP sockets of this host (from /proc/net/tcp and tcp6) that look like stores."""

from __future__ import annotations

import functools
import ipaddress
import os
import pwd
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from safemirror.guard.address import scope_of
from safemirror.guard.spec import Target

LISTEN = "0A"

#: Well-known ports of data stores and their admin interfaces → guard kind (or a label).
WELL_KNOWN: dict[int, str] = {
    5432: "postgres",
    5433: "postgres",
    6432: "postgres (pgbouncer)",
    3306: "mysql",
    33060: "mysql (X protocol)",
    6379: "redis",
    6380: "redis",
    26379: "redis (sentinel)",
    5672: "amqp",
    5671: "amqp (TLS)",
    15672: "amqp (management)",
    25672: "amqp (cluster)",
    1883: "mqtt",
    8883: "mqtt (TLS)",
    9001: "mqtt (websocket)",
    4222: "nats",
    6222: "nats (cluster)",
    8222: "nats (monitoring)",
    9200: "elasticsearch",
    9300: "elasticsearch (transport)",
    5601: "kibana",
    27017: "mongodb",
    11211: "memcached",
    5984: "couchdb",
    9042: "cassandra",
    8086: "influxdb",
    2379: "etcd",
    26257: "cockroachdb",
    8123: "clickhouse (http)",
    9092: "kafka",
    2181: "zookeeper",
    7474: "neo4j",
    8529: "arangodb",
    28015: "rethinkdb",
}


@dataclass(frozen=True)
class Listener:
    ip: str
    port: int
    uid: int
    inode: int

    @property
    def scope(self) -> str:
        return scope_of(self.ip)


@dataclass(frozen=True)
class Candidate:
    ip: str
    port: int
    kind: str
    scope: str
    owner: str
    process: str | None

    @property
    def address(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{host}:{self.port}"


def _hex_ip(text: str, v6: bool) -> str:
    raw = bytes.fromhex(text)
    if not v6:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    addr = ipaddress.IPv6Address(words)
    return str(addr.ipv4_mapped or addr)


def parse_proc_net(text: str, *, v6: bool) -> list[Listener]:
    """LISTEN rows of a /proc/net/tcp{,6} table."""
    out = []
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 10 or cols[3] != LISTEN:
            continue
        ip_hex, port_hex = cols[1].split(":")
        out.append(Listener(_hex_ip(ip_hex, v6), int(port_hex, 16), int(cols[7]), int(cols[9])))
    return out


def listeners(proc_net: Path = Path("/proc/net")) -> list[Listener]:
    found: list[Listener] = []
    for name, v6 in (("tcp", False), ("tcp6", True)):
        try:
            found += parse_proc_net((proc_net / name).read_text(), v6=v6)
        except OSError:
            continue
    return found


def _processes(inodes: set[int]) -> dict[int, str]:
    """Best effort: socket inode → process name (needs permission to read /proc/PID/fd)."""
    wanted = {f"socket:[{i}]": i for i in inodes}
    out: dict[int, str] = {}
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link in wanted and wanted[link] not in out:
                    out[wanted[link]] = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
    return out


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _canonical_ip(text: str) -> str | None:
    """An IP address as ``/proc/net`` rows give it (IPv4-mapped as IPv4), or None."""
    try:
        addr = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        return str(addr.ipv4_mapped)
    return str(addr)


def host_addresses(host: str) -> set[str]:
    """The addresses ``host`` names: itself for an IP, else what it resolves to (none
    when it does not resolve: then it covers nothing)."""
    ip = _canonical_ip(host)
    if ip is not None:
        return {ip}
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return set()
    return {ip for info in infos if (ip := _canonical_ip(str(info[4][0]))) is not None}


def is_local_address(ip: str) -> bool:
    """Whether ``ip`` belongs to this host: a loopback address, or one a socket can bind
    to (the address of one of its interfaces)."""
    addr = ipaddress.ip_address(ip)
    if addr.is_loopback or addr.is_unspecified:
        return True
    family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((ip, 0))
    except OSError:
        return False
    return True


def _reaches(ip: str, listener: Listener, is_local: Callable[[str], bool]) -> bool:
    """Whether a connection to ``ip`` on the listener's port lands on the listener."""
    if ip == listener.ip:
        return True
    if listener.scope == "loopback":  # 127.0.0.1 and ::1 of one port: one local service
        return scope_of(ip) == "loopback"
    if listener.ip == "0.0.0.0":
        return ipaddress.ip_address(ip).version == 4 and is_local(ip)
    if listener.ip == "::":  # IPv4 too, unless the socket is IPv6-only
        return is_local(ip)
    return False


def covered(
    listener: Listener,
    targets: Iterable[Target],
    *,
    is_local: Callable[[str], bool] = is_local_address,
    resolve: Callable[[str], set[str]] = host_addresses,
) -> bool:
    """Whether a target in the file already watches this listener: one on its port whose
    host is (or resolves to) its address, or, for a wildcard listener, an address of this
    host. A target elsewhere, or a name that does not resolve, covers nothing."""
    for target in targets:
        if target.endpoint.port != listener.port:
            continue
        if any(_reaches(ip, listener, is_local) for ip in resolve(target.endpoint.host)):
            return True
    return False


def bind_of(port: int, found: Iterable[Listener]) -> str | None:
    """How a local port is bound: all interfaces, beyond loopback, or loopback only."""
    scopes = {item.scope for item in found if item.port == port}
    for scope in ("all interfaces", "public", "private", "loopback"):
        if scope in scopes:
            return scope
    return None


def discover(
    targets: Iterable[Target] = (),
    *,
    include_unknown: bool = False,
    found: list[Listener] | None = None,
) -> list[Candidate]:
    """Listening sockets that look like data stores and no target covers."""
    targets = list(targets)
    found = listeners() if found is None else found
    picked: dict[tuple[str, int], Listener] = {}
    resolve = functools.cache(host_addresses)  # each host once
    is_local = functools.cache(is_local_address)
    for item in found:
        if (item.port in WELL_KNOWN or include_unknown) and not covered(
            item, targets, is_local=is_local, resolve=resolve
        ):
            picked.setdefault((item.ip, item.port), item)
    names = _processes({item.inode for item in picked.values()})
    return sorted(
        (
            Candidate(
                i.ip,
                i.port,
                WELL_KNOWN.get(i.port, "unknown"),
                i.scope,
                _owner(i.uid),
                names.get(i.inode),
            )
            for i in picked.values()
        ),
        key=lambda c: (c.port, c.ip),
    )


def fragment(
    candidates: Iterable[Candidate], kinds: Iterable[str], taken: Iterable[str] = ()
) -> list[dict[str, object]]:
    """Targets-file entries for the candidates of a probe kind, named ``KIND-PORT`` and made
    unique (a store on both 127.0.0.1 and ::1, a name the targets file already uses) with
    ``-2``, ``-3``…, so that the fragment pasted into the file validates."""
    known, used = set(kinds), set(taken)
    entries: list[dict[str, object]] = []
    for c in candidates:
        if c.kind not in known:
            continue
        base = name = f"{c.kind}-{c.port}"
        n = 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        entries.append(
            {
                "name": name,
                "kind": c.kind,
                "address": c.address,
                "holds": ["pii"],
                "expect": {"listen": "loopback"},
            }
        )
    return entries

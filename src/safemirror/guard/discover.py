"""Listening TCP sockets of this host (from /proc/net/tcp and tcp6) that look like stores."""

from __future__ import annotations

import ipaddress
import os
import pwd
import socket
from collections.abc import Iterable
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


def covered(listener: Listener, targets: Iterable[Target]) -> bool:
    """Whether a target in the file already watches this listener."""
    for target in targets:
        host = target.endpoint.host
        if target.endpoint.port != listener.port:
            continue
        scope = scope_of(host) if host != "localhost" else "loopback"
        if scope == "unknown" or listener.scope == "all interfaces" or host == listener.ip:
            return True
        if scope == "loopback" and listener.scope == "loopback":
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
    for item in found:
        if (item.port in WELL_KNOWN or include_unknown) and not covered(item, targets):
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

"""Odd but possible targets files: YAML aliases, edge ports, many targets."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpcore
import pytest

from safemirror.errors import ConfigError
from safemirror.guard import resolve
from safemirror.guard import targets as targets_mod
from safemirror.guard.address import parse_hostport, parse_url


def _alias_bomb(levels: int) -> list[str]:
    """YAML where each level lists the previous one nine times: a few hundred bytes that
    stand for 9 ** levels values."""
    lines = ["  l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return lines


def test_aliases_of_aliases_are_validated_at_once(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    entry = "  - {name: cache, kind: redis, address: '127.0.0.1:6379'}"
    path.write_text("\n".join(["targets:", entry, "anchors:", *_alias_bomb(7)]) + "\n")
    start = time.monotonic()
    with pytest.raises(ConfigError, match="anchors: Extra inputs are not permitted"):
        targets_mod.load(path)
    assert time.monotonic() - start < 1.5


def test_an_aliased_entry_is_validated_like_the_anchored_one(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text(
        "targets:\n"
        "  - &base\n    name: a\n    kind: redis\n    address: '127.0.0.1:6379'\n"
        "  - <<: *base\n    name: b\n"
    )
    tfile = targets_mod.load(path)
    assert [(t.name, t.endpoint.port, t.line) for t in tfile.targets] == [
        ("a", 6379, 2),
        ("b", 6379, 6),
    ]


@pytest.mark.parametrize("kind", ["http", "redis"])
def test_port_zero_is_refused_not_replaced_by_the_default(tmp_path: Path, kind: str) -> None:
    address = "http://127.0.0.1:0/" if kind == "http" else "127.0.0.1:0"
    path = tmp_path / "targets.yaml"
    path.write_text(f"targets:\n  - {{name: a, kind: {kind}, address: '{address}'}}\n")
    with pytest.raises(ConfigError, match="port must be a number from 1 to 65535"):
        targets_mod.load(path)


@pytest.mark.parametrize(
    ("address", "port"), [("127.0.0.1:65535", 65535), ("http://127.0.0.1:65535", 65535)]
)
def test_the_highest_port_is_accepted(tmp_path: Path, address: str, port: int) -> None:
    kind = "http" if "://" in address else "redis"
    path = tmp_path / "targets.yaml"
    path.write_text(f"targets:\n  - {{name: a, kind: {kind}, address: '{address}'}}\n")
    assert targets_mod.load(path).targets[0].endpoint.port == port


def test_an_ipv6_zone_id_in_a_url_is_the_interface_not_25_and_its_name() -> None:
    """RFC 6874 writes the zone id of ``fe80::1%lo`` as ``%25lo`` in a URL: the probe
    connects to ``fe80::1%lo``, never to an interface named ``25lo``."""
    endpoint = parse_url("http://[fe80::1%25lo]:8080/ui/", 80)
    assert (endpoint.host, endpoint.url) == ("fe80::1%lo", "http://[fe80::1%25lo]:8080/ui")
    assert parse_url("http://[fe80::1%lo]:8080", 80).url == "http://[fe80::1%25lo]:8080"
    assert parse_hostport("[fe80::1%lo]:6379", 1).host == "fe80::1%lo"

    connected: list[str] = []

    class Recorder(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, host: str, port: int, *args: Any) -> Any:
            connected.append(host)

    async def connect() -> None:
        with resolve.pinned(endpoint.host, endpoint.host):
            # httpcore passes the host as httpx parsed it from the URL
            await resolve.PinnedBackend(Recorder()).connect_tcp("fe80::1%25lo", 8080)

    asyncio.run(connect())
    assert connected == ["fe80::1%lo"]

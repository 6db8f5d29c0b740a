"""Home networks: Wi-Fi SSIDs, private LAN addresses, public IPs and device MACs."""

from __future__ import annotations

import math
import re

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.demo import strings as s
from safemirror.demo import vocab
from safemirror.demo.rand import hash64, pick, stream_key

I64 = npt.NDArray[np.int64]

_TOKEN = re.compile(r"\{(First|Last|[dHhaA]\d+)\}")
_ALPHABETS = {"d": s.DIGITS, "H": s.HEX_UPPER, "h": s.HEX_LOWER, "a": s.ALNUM, "A": s.ALNUM_UPPER}
_MARKETS = ("US", "CA", "GB", "DE", "FR", "AU")
MAC_SPACE = (1 << 24) * len(vocab.MAC_OUIS)


def render(template: str, rng: np.random.Generator, first: I64, last: I64) -> pa.Array:
    """Fill ``template`` once per row: random character runs and the owner's names."""
    n = len(first)
    parts: list[pa.Array | str] = []
    pos = 0
    for match in _TOKEN.finditer(template):
        if match.start() > pos:
            parts.append(template[pos : match.start()])
        token = match.group(1)
        if token == "First":
            parts.append(s.take([x.capitalize() for x in vocab.FIRST_NAMES], first))
        elif token == "Last":
            parts.append(s.take([x.capitalize() for x in vocab.LAST_NAMES], last))
        else:
            parts.append(s.random_text(rng, n, int(token[1:]), _ALPHABETS[token[0]]))
        pos = match.end()
    if pos < len(template):
        parts.append(template[pos:])
    if not any(isinstance(p, pa.Array) for p in parts):
        return pa.array([template] * n, pa.string())
    return s.concat(*parts)


def ssids(rng: np.random.Generator, place: npt.NDArray[np.intp], first: I64, last: I64) -> pa.Array:
    """A home Wi-Fi name per household, from the templates common in its market."""
    n = len(first)
    markets = (*_MARKETS, "other")
    place_market = np.array(
        [markets.index(p[0]) if p[0] in _MARKETS else len(_MARKETS) for p in vocab.PLACES]
    )
    market = place_market[place]
    choice = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for m, name in enumerate(markets):
        mask = market == m
        weights = [
            w if (where == "*" or name in where.split()) else 0.0 for _, where, w in vocab.SSIDS
        ]
        choice[mask] = pick(u[mask], weights)
    out = pa.nulls(n, pa.string())
    for k in np.unique(choice):
        rendered = render(vocab.SSIDS[int(k)][0], rng, first, last)
        out = pc.if_else(pa.array(choice == k), rendered, out)
    return out


def lan_prefixes(rng: np.random.Generator, n: int) -> I64:
    """Index into ``vocab.LAN_PREFIXES`` per household."""
    return pick(rng.random(n), [w for _, w in vocab.LAN_PREFIXES]).astype(np.int64)


def local_ips(rng: np.random.Generator, prefix: I64) -> pa.Array:
    """A private address on the household's LAN, one per device."""
    host = s.ints(rng.integers(2, 255, len(prefix)))
    return s.concat(s.take([p for p, _ in vocab.LAN_PREFIXES], prefix), host)


def public_ips(seed: int, key: I64) -> pa.Array:
    """A stable public IPv4 address per key (a household during one DHCP lease)."""
    h = hash64(seed, "public-ip", key)
    octets = np.empty((len(key), 4), dtype=np.int64)
    firsts = np.array(vocab.PUBLIC_FIRST_OCTETS, dtype=np.int64)
    octets[:, 0] = firsts[(h % np.uint64(len(firsts))).astype(np.int64)]
    octets[:, 1] = ((h >> np.uint64(16)) & np.uint64(255)).astype(np.int64)
    octets[:, 2] = ((h >> np.uint64(24)) & np.uint64(255)).astype(np.int64)
    octets[:, 3] = 1 + ((h >> np.uint64(32)) % np.uint64(254)).astype(np.int64)
    return s.ipv4(octets)


def macs(index: I64) -> pa.Array:
    """A MAC address per device index, unique for indexes below ``MAC_SPACE``.

    ``(a·i + b) mod MAC_SPACE`` with ``a`` coprime to the modulus is a bijection; its high
    part picks the vendor OUI and its low 24 bits the NIC part. The key does not depend on
    the seed, so devices added later by ``mutate`` (any seed) never reuse an address.
    """
    key = int(stream_key(0, "mac"))
    mult = (key | 1) % MAC_SPACE
    while math.gcd(mult, MAC_SPACE) != 1:
        mult += 2
    value = (index.astype(np.int64) * mult + (key >> 20) % MAC_SPACE) % MAC_SPACE
    oui, nic = np.divmod(value, 1 << 24)
    out = np.empty((len(index), 17), dtype=np.uint8)
    ouis = np.frombuffer("".join(vocab.MAC_OUIS).encode(), dtype=np.uint8).reshape(-1, 8)
    out[:, :8] = ouis[oui]
    nic_hex = s.hex_chars(nic.astype(np.uint64), 6, s.HEX_UPPER)
    for i in range(3):
        out[:, 8 + 3 * i] = ord(":")
        out[:, 9 + 3 * i : 11 + 3 * i] = nic_hex[:, 2 * i : 2 * i + 2]
    return s.from_matrix(out)

"""The few MQTT control packets the MQTT probe needs: encode, read, and the one MQTT 5
CONNACK property it looks at."""

from __future__ import annotations

import re
import struct

from safemirror.guard.model import ProbeError
from safemirror.guard.probes.wire import Wire

DISCONNECT = b"\xe0\x00"
#: Mosquitto's client identifier for a client that sends none (``auto_id_prefix`` "auto-").
MOSQUITTO_AUTO_ID = re.compile(r"auto-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
# MQTT 5 property identifiers by the size of their value (for skipping the ones not read)
_BYTE = frozenset({0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A})
_TWO = frozenset({0x13, 0x21, 0x22, 0x23})
_FOUR = frozenset({0x02, 0x11, 0x18, 0x27})
_STRING = frozenset({0x03, 0x08, 0x09, 0x12, 0x15, 0x16, 0x1A, 0x1C, 0x1F})
ASSIGNED_CLIENT_ID = 0x12


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """A variable byte integer at ``pos``: (value, position after it)."""
    value = 0
    for shift in (0, 7, 14, 21):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
    raise ValueError("malformed variable byte integer")


def utf8(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str, *, level: int = 4) -> bytes:
    """CONNECT without user name or password, clean session; ``level`` 4 is MQTT 3.1.1 and
    5 is MQTT 5 (with an empty property list)."""
    props = b"\x00" if level == 5 else b""
    body = utf8("MQTT") + bytes([level, 0x02]) + struct.pack("!H", 10) + props + utf8(client_id)
    return b"\x10" + varint(len(body)) + body


def subscribe_packet(topic: str) -> bytes:
    body = struct.pack("!H", 1) + utf8(topic) + b"\x00"
    return b"\x82" + varint(len(body)) + body


async def read_packet(wire: Wire, expect: int | None = None) -> tuple[int, bytes]:
    """One control packet; ``expect`` is the required first byte (checked before the rest)."""
    first = (await wire.read_exact(1))[0]
    if expect is not None and first != expect:
        raise ProbeError("not an MQTT broker", connected=True)
    size, shift = 0, 0
    for _ in range(4):
        byte = (await wire.read_exact(1))[0]
        size |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if size > 1 << 16:
        raise ProbeError("MQTT packet too large for a probe", connected=True)
    return first, await wire.read_exact(size)


def assigned_client_id(connack: bytes) -> str | None:
    """The Assigned Client Identifier of an accepted MQTT 5 CONNACK body, if any."""
    if len(connack) < 3 or connack[1] != 0:
        return None
    end, pos = read_varint(connack, 2)
    end += pos
    while pos < end:
        prop = connack[pos]
        pos += 1
        if prop in _STRING:
            size = struct.unpack_from("!H", connack, pos)[0]
            if prop == ASSIGNED_CLIENT_ID:
                return connack[pos + 2 : pos + 2 + size].decode("utf-8", "replace")
            pos += 2 + size
        elif prop == 0x26:  # user property: a string pair
            for _ in range(2):
                pos += 2 + struct.unpack_from("!H", connack, pos)[0]
        elif prop == 0x0B:
            _, pos = read_varint(connack, pos)
        else:
            width = 1 if prop in _BYTE else 2 if prop in _TWO else 4 if prop in _FOUR else 0
            if not width:
                raise ValueError(f"unknown MQTT 5 property {prop:#x}")
            pos += width
    return None

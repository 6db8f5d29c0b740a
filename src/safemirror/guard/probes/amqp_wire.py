"""The few AMQP 0-9-1 frames the RabbitMQ probe needs: encode and decode."""

from __future__ import annotations

import struct
from typing import Any

from safemirror.guard.model import ProbeError
from safemirror.guard.probes.wire import Wire, looks_like_tls

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_END = 0xCE
_FIXED = {
    "t": 1,
    "b": 1,
    "B": 1,
    "s": 2,
    "u": 2,
    "I": 4,
    "i": 4,
    "l": 8,
    "L": 8,
    "f": 4,
    "d": 8,
    "D": 5,
    "T": 8,
    "V": 0,
}


def shortstr(text: str) -> bytes:
    raw = text.encode()
    return bytes([len(raw)]) + raw


def longstr(raw: bytes) -> bytes:
    return struct.pack("!I", len(raw)) + raw


def encode_table(values: dict[str, Any]) -> bytes:
    """Encode strings, booleans and nested tables (all the client properties need)."""
    out = b""
    for key, value in values.items():
        out += shortstr(key)
        if isinstance(value, bool):
            out += b"t" + bytes([value])
        elif isinstance(value, dict):
            out += b"F" + encode_table(value)
        else:
            out += b"S" + longstr(str(value).encode())
    return struct.pack("!I", len(out)) + out


def decode_table(data: bytes, pos: int) -> tuple[dict[str, Any], int]:
    """Decode a field table at ``pos``; strings and tables are kept, the rest skipped."""
    size = struct.unpack_from("!I", data, pos)[0]
    pos += 4
    end = pos + size
    out: dict[str, Any] = {}
    while pos < end:
        klen = data[pos]
        key = data[pos + 1 : pos + 1 + klen].decode("utf-8", "replace")
        pos += 1 + klen
        kind = chr(data[pos])
        pos += 1
        if kind == "F":
            out[key], pos = decode_table(data, pos)
        elif kind in "SxA":
            vlen = struct.unpack_from("!I", data, pos)[0]
            if kind == "S":
                out[key] = data[pos + 4 : pos + 4 + vlen].decode("utf-8", "replace")
            pos += 4 + vlen
        elif kind in _FIXED:
            if kind == "t":
                out[key] = bool(data[pos])
            pos += _FIXED[kind]
        else:
            raise ProbeError(f"unknown AMQP field type {kind!r}", connected=True)
    return out, end


def method_frame(class_id: int, method_id: int, args: bytes) -> bytes:
    payload = struct.pack("!HH", class_id, method_id) + args
    return struct.pack("!BHI", 1, 0, len(payload)) + payload + bytes([FRAME_END])


async def read_method(wire: Wire) -> tuple[int, int, bytes]:
    """Read frames until a method frame on channel 0; return (class, method, arguments)."""
    while True:
        head = await wire.read_exact(7)
        if looks_like_tls(head):
            raise ProbeError("the server speaks TLS only", connected=True)
        if head[:4] == b"AMQP":
            rest = await wire.read_exact(1)
            version = ".".join(str(b) for b in (head[5:7] + rest))
            raise ProbeError(f"the server speaks AMQP {version}, not 0-9-1", connected=True)
        kind, _channel, size = struct.unpack("!BHI", head)
        if size > 1 << 20:
            raise ProbeError("not an AMQP server (frame too large)", connected=True)
        body = await wire.read_exact(size + 1)
        if body[-1] != FRAME_END:
            raise ProbeError("not an AMQP 0-9-1 server", connected=True)
        if kind == 1:
            class_id, method_id = struct.unpack_from("!HH", body)
            return class_id, method_id, body[4:-1]
        if kind != 8:  # heartbeats are skipped; anything else is unexpected
            raise ProbeError(f"unexpected AMQP frame type {kind}", connected=True)


def parse_close(args: bytes) -> tuple[int, str]:
    code = struct.unpack_from("!H", args)[0]
    text = args[3 : 3 + args[2]].decode("utf-8", "replace")
    return code, text

"""The generation plan: users in fixed-size chunks, each chunk yielding rows for all tables.

A chunk is a contiguous run of user ids plus everything those users own. Ids of the other
tables continue from the previous chunk, so the stream is deterministic for a seed and a
scale, and memory holds one chunk at a time whatever the scale.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from safemirror.demo.accounts import make_integrations, make_tokens
from safemirror.demo.activity import make_body_metrics, make_events, make_shares
from safemirror.demo.devices import make_devices
from safemirror.demo.rand import unit
from safemirror.demo.schema import TABLES, arrow_schema
from safemirror.demo.timeline import REFERENCE, signup_times
from safemirror.demo.users import make_users, user_count

USERS_PER_CHUNK = 10_000  # part of the output's definition: changing it changes the data

# Approximate rows per user, measured at scale 0.1; used for progress bars and estimates.
ROWS_PER_USER: dict[str, float] = {
    "users": 1.0,
    "devices": 2.42,
    "device_shares": 0.35,
    "connection_events": 25.0,
    "api_tokens": 1.97,
    "integrations": 0.46,
    "body_metrics": 1.68,
}


def chunk_count(scale: float) -> int:
    """How many chunks generation at ``scale`` takes."""
    return -(-user_count(scale) // USERS_PER_CHUNK)


def estimated_rows(scale: float) -> dict[str, int]:
    """Expected row counts per table at ``scale`` (within a few percent)."""
    users = user_count(scale)
    return {t: round(users * ROWS_PER_USER[t]) for t in TABLES}


def conform(table: str, data: pa.Table) -> pa.Table:
    """``data`` with the table's exact Arrow schema (fails loudly on a type drift)."""
    schema = arrow_schema(table)
    if data.schema.names != schema.names:
        raise AssertionError(f"{table}: generated columns {data.schema.names} != {schema.names}")
    return pa.Table.from_arrays(
        [col.cast(field.type) for col, field in zip(data.columns, schema, strict=True)],
        schema=schema,
    )


def generate_chunks(seed: int, scale: float) -> Iterator[dict[str, pa.Table]]:
    """Yield one ``{table: rows}`` mapping per chunk, in id order."""
    total = user_count(scale)
    next_index = dict.fromkeys(TABLES, 0)
    for chunk in range(chunk_count(scale)):
        lo = chunk * USERS_PER_CHUNK
        index = np.arange(lo, min(lo + USERS_PER_CHUNK, total), dtype=np.int64)
        created = signup_times((index + unit(seed, "signup", index)) / total)
        users_t, users = make_users(seed, chunk, index, created, REFERENCE)
        devices_t, devices = make_devices(seed, chunk, users, next_index["devices"], REFERENCE)
        out = {
            "users": users_t,
            "devices": devices_t,
            "device_shares": make_shares(
                seed,
                chunk,
                users,
                devices,
                first_index=next_index["device_shares"],
                user_count=total,
            ),
            "connection_events": make_events(
                seed, chunk, users, devices, first_index=next_index["connection_events"]
            ),
            "api_tokens": make_tokens(seed, chunk, users, next_index["api_tokens"], REFERENCE),
            "integrations": make_integrations(
                seed, chunk, users, devices, next_index["integrations"]
            ),
            "body_metrics": make_body_metrics(
                seed, chunk, users, devices, first_index=next_index["body_metrics"]
            ),
        }
        for name, data in out.items():
            next_index[name] += data.num_rows
        yield {name: conform(name, out[name]) for name in TABLES}

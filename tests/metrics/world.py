"""A small production and its mirror, for metric and server tests.

``Production`` is a seeded, hand-made smart-home dataset (raw ids, timestamps with time of
day, soft deletes) that is deliberately lopsided: a few big countries and several tiny ones,
rare models, users with ten or more devices — so suppression has work to do.

``write_postgres`` loads it into PostgreSQL as production. ``write_mirror`` builds the mirror
the way the MIRROR CONTRACT describes it (keyed HMAC pseudonyms, day-truncated UTC
timestamps, buckets, deleted rows removed, ``_sm_*`` system tables). Once the real sync
exists, ``build_world`` uses it instead of this stand-in.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

KEY = b"k" * 32
START = datetime(2023, 1, 1, tzinfo=UTC)
END = datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)

COUNTRIES = [
    ("US", 55),
    ("DE", 14),
    ("FR", 10),
    ("CA", 9),
    ("GB", 7),
    ("LU", 2),
    ("IS", 1.5),
    ("MT", 1),
    (None, 0.5),
]
MODELS = [  # model, category, firmware versions, weight
    ("Cam One", "camera", ["1.0.0", "1.1.0", "1.2.3"], 22),
    ("Cam Pro", "camera", ["2.0.1", "2.1.0"], 8),
    ("Cam Mini", "camera", ["0.9.8"], 1),
    ("Glow A19", "bulb", ["3.0", "3.1"], 30),
    ("Plug S", "plug", ["5.4.1", "5.5.0"], 20),
    ("Lock X", "lock", ["7.0"], 9),
    ("Scale Fit", "scale", ["1.4", "1.5"], 9),
    ("Plug Rare", "plug", ["9.9"], 1),
]


def pseudonym(domain: str, value: Any) -> int:
    """The stand-in sync's keyed HMAC pseudonym: a signed 64-bit integer."""
    digest = hmac.new(KEY, f"{domain}\x00{value}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _day(ts: datetime | None) -> datetime | None:
    return (
        None if ts is None else ts.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    )


def _rand_ts(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    span = (hi - lo).total_seconds()
    return lo + timedelta(seconds=int(rng.random() * span))


@dataclass
class Production:
    """Rows of every production table, as Python dicts."""

    seed: int = 7
    n_users: int = 700
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        users, devices, shares, events, tokens, links, body = [], [], [], [], [], [], []
        weights = [w for _, w in COUNTRIES]
        for uid in range(1, self.n_users + 1):
            # Growth: later signups are more frequent (square-root warp of time).
            created = START + (END - START) * (rng.random() ** 0.6)
            country = rng.choices([c for c, _ in COUNTRIES], weights)[0]
            deleted = _rand_ts(rng, created, END) if rng.random() < 0.06 else None
            users.append(
                {
                    "id": uid,
                    "email": f"user{uid}@example.com",
                    "display_name": f"User {uid}",
                    "password_hash": "x" * 20,
                    "profile_photo_url": None,
                    "country": country,
                    "region": "r1",
                    "timezone": "UTC",
                    "birth_year": 1950 + uid % 50,
                    "two_factor_enabled": uid % 3 == 0,
                    "created_at": created,
                    "updated_at": deleted or created,
                    "deleted_at": deleted,
                }
            )
            n_dev = min(14, int(rng.paretovariate(1.3)))
            if uid % 97 == 0:
                n_dev = 10 + uid % 4  # a few heavy users: the 10+ bucket
            for _ in range(n_dev):
                did = len(devices) + 1
                model, category, firmwares, _w = rng.choices(MODELS, [m[3] for m in MODELS])[0]
                activated = None if rng.random() < 0.05 else _rand_ts(rng, created, END)
                gone = _rand_ts(rng, activated or created, END) if rng.random() < 0.05 else None
                devices.append(
                    {
                        "id": did,
                        "user_id": uid,
                        "mac": f"02:00:{did:08x}",
                        "model": model,
                        "category": category,
                        "nickname": "kitchen",
                        "firmware_version": rng.choice(firmwares),
                        "wifi_ssid": "home",
                        "local_ip": "10.0.0.2",
                        "activated_at": activated,
                        "last_seen_at": activated,
                        "updated_at": gone or activated or created,
                        "deleted_at": gone,
                    }
                )
                if activated is None:
                    continue
                bad = 0.3 if model == "Cam Pro" else 0.12
                for _ in range(rng.randint(2, 14)):
                    ts = _rand_ts(rng, activated, END)
                    if rng.random() < 0.02:  # right before midnight: truncation must agree
                        ts = ts.replace(hour=23, minute=59, second=59)
                    roll = rng.random()
                    outcome = "failed" if roll < bad * 0.7 else "timeout" if roll < bad else "ok"
                    events.append(
                        {
                            "id": len(events) + 1,
                            "device_id": did,
                            "ts": ts,
                            "outcome": outcome,
                            "error_code": None if outcome == "ok" else "E42",
                            "rssi_dbm": -40 - rng.randint(0, 50),
                            "latency_ms": rng.randint(5, 900),
                            "client_ip": "203.0.113.9",
                        }
                    )
                if rng.random() < 0.1:
                    shares.append(
                        {
                            "id": len(shares) + 1,
                            "device_id": did,
                            "owner_user_id": uid,
                            "guest_email": f"guest{did}@example.org",
                            "created_at": activated,
                        }
                    )
            tokens.append(
                {
                    "id": uid,
                    "user_id": uid,
                    "platform": "ios",
                    "access_token": f"at{uid:032d}",
                    "refresh_token": f"rt{uid:032d}",
                    "created_at": created,
                    "expires_at": created + timedelta(days=90),
                    "revoked_at": None,
                }
            )
            if uid % 4 == 0:
                links.append(
                    {
                        "id": uid,
                        "user_id": uid,
                        "provider": "alexa",
                        "access_token": f"la{uid:032d}",
                        "refresh_token": f"lr{uid:032d}",
                        "linked_at": created,
                        "unlinked_at": None,
                    }
                )
            if uid % 5 == 0:
                body.append(
                    {
                        "id": uid,
                        "user_id": uid,
                        "measured_at": created,
                        "weight_kg": 70.5,
                        "body_fat_pct": 20.1,
                        "bmi": 23.4,
                    }
                )
        self.tables = {
            "users": users,
            "devices": devices,
            "device_shares": shares,
            "connection_events": events,
            "api_tokens": tokens,
            "integrations": links,
            "body_metrics": body,
        }


PG_DDL = {  # production: raw ids, timestamps with time zone, soft deletes
    "users": "id bigint primary key, email text not null, display_name text, "
    "password_hash text, profile_photo_url text, country text, region text, "
    "timezone text, birth_year integer, two_factor_enabled boolean, "
    "created_at timestamptz not null, updated_at timestamptz not null, "
    "deleted_at timestamptz",
    "devices": "id bigint primary key, user_id bigint not null, mac text not null, "
    "model text not null, category text not null, nickname text, "
    "firmware_version text not null, wifi_ssid text, local_ip text, "
    "activated_at timestamptz, last_seen_at timestamptz, "
    "updated_at timestamptz not null, deleted_at timestamptz",
    "device_shares": "id bigint primary key, device_id bigint not null, "
    "owner_user_id bigint not null, guest_email text not null, "
    "created_at timestamptz not null",
    "connection_events": "id bigint primary key, device_id bigint not null, "
    "ts timestamptz not null, outcome text not null, error_code text, "
    "rssi_dbm integer, latency_ms integer, client_ip text",
    "api_tokens": "id bigint primary key, user_id bigint not null, platform text not null, "
    "access_token text not null, refresh_token text not null, "
    "created_at timestamptz not null, expires_at timestamptz not null, "
    "revoked_at timestamptz",
    "integrations": "id bigint primary key, user_id bigint not null, provider text not null, "
    "access_token text not null, refresh_token text not null, "
    "linked_at timestamptz not null, unlinked_at timestamptz",
    "body_metrics": "id bigint primary key, user_id bigint not null, "
    "measured_at timestamptz not null, weight_kg double precision not null, "
    "body_fat_pct double precision, bmi double precision",
}


def write_postgres(prod: Production, url: str) -> None:
    """Load the production rows into an empty PostgreSQL database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for name, ddl in PG_DDL.items():
            conn.execute(f"CREATE TABLE {name} ({ddl})")
            rows = prod.tables[name]
            if not rows:
                continue
            cols = list(rows[0])
            with conn.cursor().copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in cols])
        conn.execute("CREATE INDEX ON connection_events (device_id, ts)")
        conn.execute("CREATE INDEX ON devices (user_id)")
        conn.execute("ANALYZE")


def _bucket(value: float | None, width: float) -> float | None:
    return None if value is None else (value // width) * width


MIRROR_DDL = {
    "users": "id BIGINT, country TEXT, region TEXT, birth_year INTEGER, "
    "two_factor_enabled BOOLEAN, created_at TIMESTAMP, updated_at TIMESTAMP",
    "devices": "id BIGINT, user_id BIGINT, model TEXT, category TEXT, firmware_version TEXT, "
    "activated_at TIMESTAMP, last_seen_at TIMESTAMP, updated_at TIMESTAMP",
    "device_shares": "id BIGINT, device_id BIGINT, owner_user_id BIGINT, guest_email BIGINT, "
    "created_at TIMESTAMP",
    "connection_events": "id BIGINT, device_id BIGINT, ts TIMESTAMP, outcome TEXT, "
    "error_code TEXT, rssi_dbm INTEGER, latency_ms INTEGER",
    "api_tokens": "id BIGINT, user_id BIGINT, platform TEXT, created_at TIMESTAMP, "
    "expires_at TIMESTAMP, revoked_at TIMESTAMP",
    "integrations": "id BIGINT, user_id BIGINT, provider TEXT, linked_at TIMESTAMP, "
    "unlinked_at TIMESTAMP",
    "body_metrics": "id BIGINT, user_id BIGINT, measured_at TIMESTAMP, weight_kg DOUBLE, "
    "body_fat_pct DOUBLE, bmi DOUBLE",
}


def _mirror_row(table: str, row: dict[str, Any]) -> list[Any]:
    p, d = pseudonym, _day
    if table == "users":
        return [
            p("user", row["id"]),
            row["country"],
            row["region"],
            int(_bucket(row["birth_year"], 10) or 0),
            row["two_factor_enabled"],
            d(row["created_at"]),
            d(row["updated_at"]),
        ]
    if table == "devices":
        return [
            p("device", row["id"]),
            p("user", row["user_id"]),
            row["model"],
            row["category"],
            row["firmware_version"],
            d(row["activated_at"]),
            d(row["last_seen_at"]),
            d(row["updated_at"]),
        ]
    if table == "device_shares":
        return [
            row["id"],
            p("device", row["device_id"]),
            p("user", row["owner_user_id"]),
            p("email", row["guest_email"]),
            d(row["created_at"]),
        ]
    if table == "connection_events":
        return [
            row["id"],
            p("device", row["device_id"]),
            d(row["ts"]),
            row["outcome"],
            row["error_code"],
            int(_bucket(row["rssi_dbm"], 5) or 0),
            row["latency_ms"],
        ]
    if table == "api_tokens":
        return [
            row["id"],
            p("user", row["user_id"]),
            row["platform"],
            d(row["created_at"]),
            d(row["expires_at"]),
            d(row["revoked_at"]),
        ]
    if table == "integrations":
        return [
            row["id"],
            p("user", row["user_id"]),
            row["provider"],
            d(row["linked_at"]),
            d(row["unlinked_at"]),
        ]
    return [
        row["id"],
        p("user", row["user_id"]),
        d(row["measured_at"]),
        _bucket(row["weight_kg"], 5),
        _bucket(row["body_fat_pct"], 5),
        _bucket(row["bmi"], 1),
    ]


def write_mirror(prod: Production, path: Path) -> Path:
    """Build the mirror per the MIRROR CONTRACT (stand-in for the real sync)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    entered = datetime(2025, 1, 1)
    con = duckdb.connect(str(tmp))
    try:
        for table, ddl in MIRROR_DDL.items():
            con.execute(f"CREATE TABLE {table} ({ddl}, _sm_entered_at TIMESTAMP)")
            rows = [r for r in prod.tables[table] if r.get("deleted_at") is None]
            names = [c.split()[0] for c in ddl.split(", ")] + ["_sm_entered_at"]
            values = [[*_mirror_row(table, r), entered] for r in rows]
            arrow = pa.table({n: [v[i] for v in values] for i, n in enumerate(names)})
            con.register("incoming", arrow)
            con.execute(f"INSERT INTO {table} SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("CREATE TABLE _sm_runs (run_id VARCHAR, note VARCHAR)")
        con.execute("INSERT INTO _sm_runs VALUES ('r1', 'secret-run-detail')")
        con.execute("CREATE TABLE _sm_state (table_name VARCHAR, watermark JSON)")
        con.execute("CREATE TABLE _sm_history (table_name VARCHAR, row_key VARCHAR)")
    finally:
        con.close()
    tmp.replace(path)
    return path


def project_yaml(base: Path, mirror: Path, source: str, **server: Any) -> Path:
    """A project file pointing at ``mirror`` with the shipped demo policy."""
    import yaml

    import safemirror.policy as policy_pkg

    policy = Path(policy_pkg.__file__).with_name("demo_policy.yaml")
    key = base / "mirror.key"
    if not key.exists():
        key.write_text(hashlib.sha256(b"tests.metrics.world").hexdigest() + "\n")
        key.chmod(0o600)
    body = {
        "source": source,
        "mirror": str(mirror),
        "key": f"file:{key}",
        "audit_log": str(base / "audit.jsonl"),
        "policy": str(policy),
        "server": {"keys_file": str(base / "keys.json"), **server},
    }
    path = base / "safemirror.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path

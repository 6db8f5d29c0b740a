"""A small, realistic production schema for the suggest tests, in SQLite or PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIRST = [
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
]
LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
]
ROOMS = [
    "Kitchen",
    "Front Door",
    "Garage",
    "Baby Room",
    "Living Room",
    "Porch",
    "Office",
    "Bedroom",
    "Backyard",
    "Hallway",
    "Mom's Room",
    "Basement",
    "Attic",
    "Patio",
]
KINDS = ["Cam", "Plug", "Light", "Lock", "Sensor", "Bulb", "Lamp"]
MODELS = [
    "Cam Pro 2",
    "Cam Mini",
    "Smart Plug Mini",
    "Video Doorbell Pro 2nd Gen",
    "Smart Bulb Color E27",
    "Smart Lock Ultra",
]
COUNTRIES = ["US"] * 6 + ["CA", "DE", "FR", "GB"]
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Chicago",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/London",
    "America/Toronto",
]
START = datetime(2023, 1, 1, tzinfo=UTC)
USERS, DEVICES, EVENTS = 300, 600, 1500

# (name, pg type, sqlite type, references)
TABLES: dict[str, list[tuple[str, str, str, str | None]]] = {
    "users": [
        ("id", "bigint", "INTEGER", None),
        ("email", "text", "TEXT", None),
        ("display_name", "text", "TEXT", None),
        ("password_hash", "text", "TEXT", None),
        ("phone", "text", "TEXT", None),
        ("country", "text", "TEXT", None),
        ("timezone", "text", "TEXT", None),
        ("birth_year", "integer", "INTEGER", None),
        ("weight_kg", "double precision", "DOUBLE", None),
        ("two_factor_enabled", "boolean", "BOOLEAN", None),
        ("created_at", "timestamptz", "TIMESTAMP", None),
        ("updated_at", "timestamptz", "TIMESTAMP", None),
        ("deleted_at", "timestamptz", "TIMESTAMP", None),
    ],
    "devices": [
        ("id", "bigint", "INTEGER", None),
        ("user_id", "bigint", "BIGINT", "users"),
        ("mac", "text", "TEXT", None),
        ("model", "text", "TEXT", None),
        ("nickname", "text", "TEXT", None),
        ("wifi_ssid", "text", "TEXT", None),
        ("firmware_version", "text", "TEXT", None),
        ("activated_at", "timestamptz", "TIMESTAMP", None),
    ],
    "connection_events": [
        ("id", "bigint", "INTEGER", None),
        ("device_id", "bigint", "BIGINT", "devices"),
        ("ts", "timestamptz", "TIMESTAMP", None),
        ("outcome", "text", "TEXT", None),
        ("client_ip", "text", "TEXT", None),
        ("rssi_dbm", "integer", "INTEGER", None),
    ],
    "api_tokens": [
        ("id", "bigint", "INTEGER", None),
        ("owner_user_id", "bigint", "BIGINT", None),
        ("platform", "text", "TEXT", None),
        ("access_token", "text", "TEXT", None),
        ("session_jwt", "text", "TEXT", None),
        ("created_at", "timestamptz", "TIMESTAMP", None),
        ("expires_at", "timestamptz", "TIMESTAMP", None),
    ],
    "support_notes": [("id", "bigint", "INTEGER", None), ("body", "text", "TEXT", None)],
    "legacy_import": [("line", "text", "TEXT", None), ("payload", "text", "TEXT", None)],
}
SENSITIVE = {
    ("users", "email"),
    ("users", "display_name"),
    ("users", "password_hash"),
    ("users", "phone"),
    ("devices", "mac"),
    ("devices", "nickname"),
    ("devices", "wifi_ssid"),
    ("connection_events", "client_ip"),
    ("api_tokens", "access_token"),
    ("api_tokens", "session_jwt"),
    ("support_notes", "body"),
}


def _hex(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def _token(i: int) -> str:
    import base64

    return base64.urlsafe_b64encode(hashlib.sha256(f"t{i}".encode()).digest()).decode()[:43]


def _jwt(i: int) -> str:
    import base64

    def enc(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    header, payload = (
        enc('{"alg":"HS256","typ":"JWT"}'),
        enc(json.dumps({"sub": str(i)}, separators=(",", ":"))),
    )
    return f"{header}.{payload}.{_token(i + 7)[:20]}"


def rows() -> dict[str, list[tuple[Any, ...]]]:
    users = []
    for i in range(1, USERS + 1):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        created = START + timedelta(hours=i * 13)
        users.append(
            (
                i,
                f"{first}.{last}{i}@example.com",
                f"{first.title()} {last.title()[0]}.",
                f"$2b$12${_hex('pw', i)[:53]}",
                f"+1 415 555 {1000 + i:04d}",
                COUNTRIES[i % len(COUNTRIES)],
                ZONES[i % len(ZONES)],
                1950 + i % 50,
                55 + (i * 37) % 60 + 0.5,
                i % 3 == 0,
                created,
                created + timedelta(days=i % 40),
                None if i % 9 else created,
            )
        )
    devices = []
    for i in range(1, DEVICES + 1):
        mac = ":".join(f"{b:02x}" for b in hashlib.md5(str(i).encode()).digest()[:6])
        ssid = f"NETGEAR{i % 97}" if i % 3 == 0 else f"{LAST[i % len(LAST)].title()} WiFi {i % 41}"
        devices.append(
            (
                i,
                1 + i % USERS,
                mac,
                MODELS[i % len(MODELS)],
                f"{ROOMS[i % len(ROOMS)]} {KINDS[(i // 3) % len(KINDS)]} {i % 5 or ''}".strip(),
                ssid,
                f"{1 + i % 3}.{i % 4}.{i % 7}",
                START + timedelta(days=i % 300),
            )
        )
    events = [
        (
            i,
            1 + i % DEVICES,
            START + timedelta(minutes=i * 17),
            ("ok", "ok", "failed", "timeout")[i % 4],
            f"192.168.{i % 250}.{1 + i % 200}",
            -90 + i % 55,
        )
        for i in range(1, EVENTS + 1)
    ]
    tokens = [
        (
            i,
            1 + i % USERS,
            ("ios", "android", "web")[i % 3],
            _token(i),
            _jwt(i),
            START + timedelta(hours=i),
            datetime(2099, 1, 1, tzinfo=UTC),
        )
        for i in range(1, 401)
    ]
    notes = [
        (i, f"Customer {i} says the doorbell keeps disconnecting every night after update {i % 9}")
        for i in range(60)
    ]
    return {
        "users": users,
        "devices": devices,
        "connection_events": events,
        "api_tokens": tokens,
        "support_notes": notes,
        "legacy_import": [("1", "x"), ("2", "y")],
    }


def _ddl(table: str, dialect: str) -> str:
    cols = []
    for name, pg, lite, ref in TABLES[table]:
        kind = pg if dialect == "pg" else lite
        key = " PRIMARY KEY" if name == "id" else ""
        fk = f" REFERENCES {ref} (id)" if ref else ""
        cols.append(f"{name} {kind}{key}{fk}")
    return f"CREATE TABLE {table} ({', '.join(cols)})"


def write_sqlite(path: Path) -> str:
    db = sqlite3.connect(path)
    for table, data in rows().items():
        db.execute(_ddl(table, "sqlite"))
        marks = ", ".join("?" * len(TABLES[table]))
        db.executemany(
            f"INSERT INTO {table} VALUES ({marks})",
            [
                tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in r)
                for r in data
            ],
        )
    db.commit()
    db.close()
    return f"sqlite:///{path}"


def write_postgres(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for table, data in rows().items():
            conn.execute(_ddl(table, "pg"))
            with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
    return url

"""One small dataset written identically to SQLite and PostgreSQL for the source tests."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROWS = 5_000
START = datetime(2024, 1, 1, tzinfo=UTC)
COLUMNS = [
    "id",
    "device_id",
    "ts",
    "updated_at",
    "deleted_at",
    "outcome",
    "score",
    "ok",
    "day",
    "payload",
    "amount",
]
WEIRD_TABLE = 'odd "table"; name'
WEIRD_COLUMN = 'we"ird col'

PG_DDL = [
    """CREATE TABLE events (id bigint PRIMARY KEY, device_id integer NOT NULL,
       ts timestamptz NOT NULL, updated_at timestamptz, deleted_at timestamptz, outcome text,
       score double precision, ok boolean, day date, payload bytea, amount numeric(10,2))""",
    f"""CREATE TABLE "{WEIRD_TABLE.replace('"', '""')}" (id bigint PRIMARY KEY,
       "select" text, "{WEIRD_COLUMN.replace('"', '""')}" integer)""",
    "CREATE TABLE empty (id bigint PRIMARY KEY, ts timestamptz)",
    "CREATE TABLE people (id bigint PRIMARY KEY, email text)",
]
SQLITE_DDL = [
    """CREATE TABLE events (id INTEGER PRIMARY KEY, device_id INT NOT NULL,
       ts TIMESTAMP NOT NULL, updated_at TIMESTAMP, deleted_at DATETIME, outcome TEXT,
       score DOUBLE, ok BOOLEAN, day DATE, payload BLOB, amount DECIMAL(10,2))""",
    f"""CREATE TABLE "{WEIRD_TABLE.replace('"', '""')}" (id BIGINT PRIMARY KEY,
       "select" TEXT, "{WEIRD_COLUMN.replace('"', '""')}" INT)""",
    "CREATE TABLE empty (id INTEGER PRIMARY KEY, ts TIMESTAMP)",
    "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT)",
]
PEOPLE = [
    (1, "Élodie@Example.com"),
    (2, "BOB@x.com"),
    (3, None),
    (4, "carol@x.com"),
    (5, "bob@X.com"),
    (6, "\u212aelvin@x.com"),  # the Kelvin sign: 3 bytes, and its lower case 'k' 1
    (7, "Long" * 3000 + "@x.com"),  # stored compressed by PostgreSQL
]


def event_rows() -> list[tuple[Any, ...]]:
    """Deterministic rows; deleted_at is NULL for the first 3,000 (a driver must not guess
    its type from a first batch of NULLs)."""
    rows = []
    for i in range(1, ROWS + 1):
        ts = START + timedelta(minutes=i, microseconds=i * 7)
        updated = None if i % 5 == 0 else ts + timedelta(days=i % 30)
        deleted = ts + timedelta(days=60) if i > 3_000 and i % 4 == 0 else None
        rows.append(
            (
                i,
                i % 300,
                ts,
                updated,
                deleted,
                ("ok", "failed", "timeout")[i % 3],
                None if i % 11 == 0 else i / 8,
                i % 2 == 0,
                date(2024, 1, 1 + i % 28),
                None if i % 3 else bytes([i % 256, 7]),
                Decimal(i % 1000) / 4,
            )
        )
    return rows


def _iso(value: datetime | None, style: int) -> str | None:
    """SQLite stores timestamps as text, in the styles real databases contain."""
    if value is None:
        return None
    text = value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return (text, text.replace(" ", "T"), text + "+00:00", text + "Z")[style % 4]


def write_sqlite(path: Path) -> str:
    db = sqlite3.connect(path)
    for ddl in SQLITE_DDL:
        db.execute(ddl)
    db.executemany(
        "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                r[0],
                r[1],
                _iso(r[2], r[0]),
                _iso(r[3], r[0] + 1),
                _iso(r[4], r[0] + 2),
                r[5],
                r[6],
                int(r[7]),
                r[8].isoformat(),
                r[9],
                float(r[10]),
            )
            for r in event_rows()
        ],
    )
    db.executemany(
        f'INSERT INTO "{WEIRD_TABLE.replace(chr(34), chr(34) * 2)}" VALUES (?,?,?)',
        [(1, "a", 10), (2, "b", 20)],
    )
    db.executemany("INSERT INTO people VALUES (?, ?)", PEOPLE)
    db.commit()
    db.close()
    return f"sqlite:///{path}"


def write_postgres(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for ddl in PG_DDL:
            conn.execute(ddl)
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in event_rows():
                copy.write_row(row)
        weird = WEIRD_TABLE.replace('"', '""')
        conn.execute(f'INSERT INTO "{weird}" VALUES (1, %s, 10), (2, %s, 20)', ("a", "b"))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO people VALUES (%s, %s)", PEOPLE)
    return url

"""The seven tables exist with the exact columns, types, keys and indexes of the contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from safemirror.demo.generate import TABLES, generate
from tests.demo.demo_support import rows

# The contract other engineers rely on: (column, SQLite declared type, PostgreSQL type).
B, INT, T, BOOL, F, TS = "BIGINT", "INT", "TEXT", "BOOLEAN", "DOUBLE", "TIMESTAMP"
CONTRACT: dict[str, list[tuple[str, str]]] = {
    "users": [
        ("id", B), ("email", T), ("display_name", T), ("password_hash", T),
        ("profile_photo_url", T), ("country", T), ("region", T), ("timezone", T),
        ("birth_year", INT), ("two_factor_enabled", BOOL), ("created_at", TS), ("updated_at", TS),
        ("deleted_at", TS),
    ],
    "devices": [
        ("id", B), ("user_id", B), ("mac", T), ("model", T), ("category", T), ("nickname", T),
        ("firmware_version", T), ("wifi_ssid", T), ("local_ip", T), ("activated_at", TS),
        ("last_seen_at", TS), ("updated_at", TS), ("deleted_at", TS),
    ],
    "device_shares": [
        ("id", B), ("device_id", B), ("owner_user_id", B), ("guest_email", T), ("created_at", TS),
    ],
    "connection_events": [
        ("id", B), ("device_id", B), ("ts", TS), ("outcome", T), ("error_code", T),
        ("rssi_dbm", INT), ("latency_ms", INT), ("client_ip", T),
    ],
    "api_tokens": [
        ("id", B), ("user_id", B), ("platform", T), ("access_token", T), ("refresh_token", T),
        ("created_at", TS), ("expires_at", TS), ("revoked_at", TS),
    ],
    "integrations": [
        ("id", B), ("user_id", B), ("provider", T), ("access_token", T), ("refresh_token", T),
        ("linked_at", TS), ("unlinked_at", TS),
    ],
    "body_metrics": [
        ("id", B), ("user_id", B), ("measured_at", TS), ("weight_kg", F), ("body_fat_pct", F),
        ("bmi", F),
    ],
}  # fmt: skip
PG_TYPES = {
    B: "bigint", INT: "integer", T: "text", BOOL: "boolean", F: "double precision",
    TS: "timestamp with time zone",
}  # fmt: skip
FOREIGN = {
    ("devices", "user_id", "users"),
    ("device_shares", "device_id", "devices"),
    ("device_shares", "owner_user_id", "users"),
    ("connection_events", "device_id", "devices"),
    ("api_tokens", "user_id", "users"),
    ("integrations", "user_id", "users"),
    ("body_metrics", "user_id", "users"),
}
UNIQUE = {
    ("users", "email"),
    ("devices", "mac"),
    ("api_tokens", "access_token"),
    ("api_tokens", "refresh_token"),
    ("integrations", "access_token"),
    ("integrations", "refresh_token"),
}
INDEXED = {  # foreign keys and cursor columns
    ("devices", "user_id"), ("devices", "updated_at"), ("users", "updated_at"),
    ("device_shares", "device_id"), ("device_shares", "created_at"),
    ("connection_events", "device_id"), ("connection_events", "ts"),
    ("api_tokens", "user_id"), ("api_tokens", "created_at"), ("api_tokens", "revoked_at"),
    ("integrations", "user_id"), ("integrations", "unlinked_at"),
    ("body_metrics", "user_id"), ("body_metrics", "measured_at"),
}  # fmt: skip


def test_tables_in_dependency_order() -> None:
    assert tuple(CONTRACT) == TABLES


def test_sqlite_columns_and_declared_types(sqlite_db: str) -> None:
    for table, columns in CONTRACT.items():
        info = rows(sqlite_db, f"PRAGMA table_info({table})")
        assert [(r[1], r[2]) for r in info] == columns, table
        assert [r[1] for r in info if r[5]] == ["id"], f"{table}: primary key"


def test_sqlite_keys_and_indexes(sqlite_db: str) -> None:
    foreign = {
        (t, r[3], r[2]) for t in TABLES for r in rows(sqlite_db, f"PRAGMA foreign_key_list({t})")
    }
    assert foreign == FOREIGN
    unique, indexed = set(), set()
    for table in TABLES:
        for _, name, is_unique, *_ in rows(sqlite_db, f"PRAGMA index_list({table})"):
            cols = [r[2] for r in rows(sqlite_db, f"PRAGMA index_info({name})")]
            if len(cols) == 1:
                indexed.add((table, cols[0]))
                if is_unique and cols != ["id"]:
                    unique.add((table, cols[0]))
    assert unique == UNIQUE
    assert indexed >= INDEXED
    assert {(t, c) for t, c, _ in FOREIGN} <= indexed


@pytest.fixture(scope="module")
def pg_db(pg_module_url: str) -> Iterator[str]:
    generate(pg_module_url, scale=0.001, seed=42)
    yield pg_module_url


@pytest.mark.postgres
def test_postgres_columns_and_types(pg_db: str) -> None:
    for table, columns in CONTRACT.items():
        found = rows(
            pg_db,
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_name = '{table}' ORDER BY ordinal_position",
        )
        assert found == [(c, PG_TYPES[t]) for c, t in columns], table


@pytest.mark.postgres
def test_postgres_keys_and_indexes(pg_db: str) -> None:
    constraints = rows(
        pg_db,
        """
        SELECT c.contype, t.relname, a.attname, coalesce(r.relname, ''), c.convalidated
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        LEFT JOIN pg_class r ON r.oid = c.confrelid
        WHERE t.relname = ANY(%s)
        """.replace("%s", "ARRAY[" + ", ".join(f"'{t}'" for t in TABLES) + "]"),
    )
    assert all(validated for *_, validated in constraints)
    assert {(t, c) for kind, t, c, _, _ in constraints if kind == "p"} == {
        (t, "id") for t in TABLES
    }
    assert {(t, c) for kind, t, c, _, _ in constraints if kind == "u"} == UNIQUE
    assert {(t, c, r) for kind, t, c, r, _ in constraints if kind == "f"} == FOREIGN
    indexed = {
        (t, d.split("(")[1].rstrip(")"))
        for t, d in rows(pg_db, "SELECT tablename, indexdef FROM pg_indexes")
        if t in TABLES
    }
    assert indexed >= INDEXED

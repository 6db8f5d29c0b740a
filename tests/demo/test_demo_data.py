"""Integrity of generated data: counts in proportion, keys hold, values unique and consistent."""

from __future__ import annotations

import re

import pytest

from safemirror.demo.chunks import ROWS_PER_USER, generate_chunks
from safemirror.demo.generate import TABLES, GenerationSummary
from safemirror.demo.schema import BY_NAME
from safemirror.demo.timeline import REFERENCE
from safemirror.demo.users import user_count
from tests.demo.conftest import SCALE
from tests.demo.demo_support import rows, value

REFERENCE_TEXT = "2026-06-30 00:00:00.000000"


def test_summary_matches_database(sqlite_generated: tuple[str, GenerationSummary]) -> None:
    url, summary = sqlite_generated
    assert list(summary.rows) == list(TABLES)
    for table in TABLES:
        assert value(url, f"SELECT COUNT(*) FROM {table}") == summary.rows[table]
        assert value(url, f"SELECT MAX(id) FROM {table}") == summary.rows[table]  # dense ids
    assert summary.seconds > 0
    assert summary.target == url


def test_row_counts_in_proportion_to_scale(
    sqlite_generated: tuple[str, GenerationSummary],
) -> None:
    _, summary = sqlite_generated
    users = user_count(SCALE)
    assert summary.rows["users"] == 12_000
    for table, per_user in ROWS_PER_USER.items():
        assert summary.rows[table] == pytest.approx(users * per_user, rel=0.12), table
    # a tenth of the scale gives about a tenth of every table
    small: dict[str, int] = dict.fromkeys(TABLES, 0)
    for chunk in generate_chunks(42, SCALE / 10):
        for table, data in chunk.items():
            small[table] += data.num_rows
    for table in TABLES:
        assert small[table] * 10 == pytest.approx(summary.rows[table], rel=0.2), table


def test_foreign_keys_hold(sqlite_db: str) -> None:
    assert rows(sqlite_db, "PRAGMA foreign_key_check") == []
    orphans = value(
        sqlite_db,
        "SELECT COUNT(*) FROM device_shares s JOIN devices d ON d.id = s.device_id "
        "WHERE d.user_id <> s.owner_user_id",
    )
    assert orphans == 0  # a share's owner is its device's owner


def test_unique_columns_are_unique(sqlite_db: str) -> None:
    for table in TABLES:
        for column in ("id", *BY_NAME[table].unique):
            total, distinct = rows(
                sqlite_db, f"SELECT COUNT({column}), COUNT(DISTINCT {column}) FROM {table}"
            )[0]
            assert total == distinct == value(sqlite_db, f"SELECT COUNT(*) FROM {table}")


def test_not_null_columns_hold_values(sqlite_db: str) -> None:
    for table in TABLES:
        for col in BY_NAME[table].columns:
            if not col.nullable:
                nulls = value(sqlite_db, f"SELECT COUNT(*) FROM {table} WHERE {col.name} IS NULL")
                assert nulls == 0, f"{table}.{col.name}"


def test_timestamps_are_utc_text_with_six_fraction_digits(sqlite_db: str) -> None:
    pattern = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
    for table in TABLES:
        for col in BY_NAME[table].columns:
            if col.kind != "ts":
                continue
            bad = value(
                sqlite_db,
                f"SELECT COUNT(*) FROM {table} WHERE {col.name} IS NOT NULL AND "
                f"(typeof({col.name}) <> 'text' OR length({col.name}) <> 26 "
                f"OR {col.name} < '2018-09-01' "
                # everything happened before the reference date; only expiry lies ahead
                f"OR ({col.name} >= '{REFERENCE_TEXT}' AND '{col.name}' <> 'expires_at'))",
            )
            assert bad == 0, f"{table}.{col.name}"
            sample = value(sqlite_db, f"SELECT MIN({col.name}) FROM {table}")
            assert pattern.match(sample), sample
    assert (
        value(sqlite_db, "SELECT COUNT(*) FROM users WHERE typeof(two_factor_enabled) <> 'integer'")
        == 0
    )
    assert REFERENCE == 1_782_777_600_000_000


def test_change_semantics(sqlite_db: str) -> None:
    """updated_at never precedes creation or deletion; deletion bumps updated_at."""
    checks = {
        "users": "updated_at < created_at OR (deleted_at IS NOT NULL AND updated_at < deleted_at)"
        " OR deleted_at < created_at",
        "devices": "updated_at < activated_at OR (deleted_at IS NOT NULL AND "
        "updated_at < deleted_at) OR last_seen_at < activated_at OR last_seen_at > "
        "coalesce(deleted_at, last_seen_at)",
        "api_tokens": "expires_at <= created_at OR revoked_at < created_at",
        "integrations": "unlinked_at < linked_at",
    }
    for table, broken in checks.items():
        assert value(sqlite_db, f"SELECT COUNT(*) FROM {table} WHERE {broken}") == 0, table
    assert value(sqlite_db, "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL") > 0
    assert value(sqlite_db, "SELECT COUNT(*) FROM devices WHERE deleted_at IS NOT NULL") > 0
    assert value(sqlite_db, "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NOT NULL") > 0
    assert value(sqlite_db, "SELECT COUNT(*) FROM integrations WHERE unlinked_at IS NOT NULL") > 0


def test_children_follow_their_parents_in_time(sqlite_db: str) -> None:
    queries = [
        "SELECT COUNT(*) FROM devices d JOIN users u ON u.id = d.user_id "
        "WHERE d.activated_at <= u.created_at "
        "OR d.activated_at > coalesce(u.deleted_at, d.activated_at)",
        "SELECT COUNT(*) FROM connection_events e JOIN devices d ON d.id = e.device_id "
        "WHERE e.ts < d.activated_at OR e.ts > d.last_seen_at",
        "SELECT COUNT(*) FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.created_at < u.created_at",
        "SELECT COUNT(*) FROM integrations i JOIN users u ON u.id = i.user_id "
        "WHERE i.linked_at < u.created_at",
        # a deleted account has no live device, session or link left
        "SELECT COUNT(*) FROM devices d JOIN users u ON u.id = d.user_id "
        "WHERE u.deleted_at IS NOT NULL AND d.deleted_at IS NULL",
        "SELECT COUNT(*) FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE u.deleted_at IS NOT NULL AND t.revoked_at IS NULL AND t.expires_at > u.deleted_at",
        "SELECT COUNT(*) FROM integrations i JOIN users u ON u.id = i.user_id "
        "WHERE u.deleted_at IS NOT NULL AND i.unlinked_at IS NULL",
    ]
    for sql in queries:
        assert value(sqlite_db, sql) == 0, sql


def test_body_metrics_only_for_scale_owners(sqlite_db: str) -> None:
    strays = value(
        sqlite_db,
        "SELECT COUNT(*) FROM body_metrics b WHERE NOT EXISTS (SELECT 1 FROM devices d "
        "WHERE d.user_id = b.user_id AND d.category = 'scale')",
    )
    assert strays == 0
    lo, hi = rows(sqlite_db, "SELECT MIN(bmi), MAX(bmi) FROM body_metrics")[0]
    assert 10 < lo < hi < 80

"""``mutate``: production-like changes after the generated history, deterministic per seed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safemirror.demo.generate import TABLES, generate
from safemirror.demo.mutate import mutate
from safemirror.errors import UsageError
from tests.demo.demo_support import fingerprint, rows, sqlite_url, value

SCALE = 0.001
AT = datetime(2026, 7, 1, 12, tzinfo=UTC)
AT_TEXT = "2026-07-01 12:00:00.000000"


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mutate") / "base.db"
    generate(sqlite_url(path), scale=SCALE, seed=11)
    return path


@pytest.fixture
def db(base_db: Path, tmp_path: Path) -> str:
    copy = tmp_path / "prod.db"
    shutil.copy(base_db, copy)
    return sqlite_url(copy)


def _counts(url: str) -> dict[str, int]:
    return {t: value(url, f"SELECT COUNT(*) FROM {t}") for t in TABLES}


def test_changes_about_the_fraction_as_production_does(db: str) -> None:
    before = _counts(db)
    changes = mutate(db, fraction=0.02, seed=1, at=AT)
    after = _counts(db)
    for table in TABLES:
        assert after[table] - before[table] == changes[f"{table}.inserted"]
        changed = sum(n for key, n in changes.items() if key.startswith(f"{table}."))
        assert changed == pytest.approx(0.02 * before[table], rel=0.5, abs=5), table
    assert changes["users.updated"] > 0 and changes["users.deleted"] > 0
    assert changes["devices.updated"] > 0 and changes["devices.deleted"] > 0
    assert changes["api_tokens.revoked"] > 0 and changes["integrations.unlinked"] > 0
    # every change is stamped after the generated history and no later than `at`
    assert value(db, f"SELECT COUNT(*) FROM users WHERE updated_at = '{AT_TEXT}'") == (
        changes["users.updated"] + changes["users.deleted"]
    )
    assert value(db, "SELECT MAX(updated_at) FROM devices") == AT_TEXT
    assert value(db, "SELECT MAX(ts) FROM connection_events") <= AT_TEXT
    assert (
        value(db, f"SELECT MIN(created_at) FROM users WHERE id > {before['users']}") > "2026-06-29"
    )
    assert (
        value(db, f"SELECT COUNT(*) FROM api_tokens WHERE revoked_at = '{AT_TEXT}'")
        >= changes["api_tokens.revoked"]
    )


def test_integrity_survives(db: str) -> None:
    mutate(db, fraction=0.05, seed=2, at=AT)
    assert rows(db, "PRAGMA foreign_key_check") == []
    for table, column in (
        ("users", "email"),
        ("devices", "mac"),
        ("api_tokens", "access_token"),
        ("integrations", "refresh_token"),
    ):
        total, distinct = rows(db, f"SELECT COUNT(*), COUNT(DISTINCT {column}) FROM {table}")[0]
        assert total == distinct, f"{table}.{column}"
    broken = value(
        db,
        "SELECT COUNT(*) FROM devices d JOIN users u ON u.id = d.user_id "
        "WHERE u.deleted_at IS NOT NULL AND d.deleted_at IS NULL",
    )
    assert broken == 0  # deleting a user soft-deletes their devices
    assert value(db, "SELECT COUNT(*) FROM users WHERE updated_at < deleted_at") == 0


def test_deterministic_for_a_seed(base_db: Path, tmp_path: Path) -> None:
    urls = []
    for name in ("x", "y"):
        shutil.copy(base_db, tmp_path / f"{name}.db")
        urls.append(sqlite_url(tmp_path / f"{name}.db"))
    assert mutate(urls[0], fraction=0.01, seed=5, at=AT) == mutate(
        urls[1], fraction=0.01, seed=5, at=AT
    )
    assert fingerprint(urls[0]) == fingerprint(urls[1])


def test_bad_input(db: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="later than the newest"):
        mutate(db, fraction=0.01, seed=1, at=datetime(2026, 6, 1, tzinfo=UTC))
    with pytest.raises(UsageError, match="fraction"):
        mutate(db, fraction=0, seed=1, at=AT)
    with pytest.raises(UsageError, match="lacks the demo tables"):
        empty = tmp_path / "empty.db"
        import sqlite3

        sqlite3.connect(empty).close()
        mutate(sqlite_url(empty), fraction=0.01, seed=1, at=AT)


@pytest.mark.postgres
def test_postgres_matches_sqlite(base_db: Path, db: str, pg_url: str) -> None:
    generate(pg_url, scale=SCALE, seed=11)
    assert mutate(pg_url, fraction=0.01, seed=3, at=AT) == mutate(db, fraction=0.01, seed=3, at=AT)
    assert fingerprint(pg_url) == fingerprint(db)

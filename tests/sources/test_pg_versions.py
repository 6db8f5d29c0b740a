"""Row versions at the watermark: what a read records, and what the next read leaves out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from safemirror.sources.pg_sql import cursor_condition
from safemirror.sources.postgres import PostgresSource

pytestmark = pytest.mark.postgres

MARK = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BEFORE = datetime(2024, 4, 1, tzinfo=UTC)


@pytest.fixture
def db(pg_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE t (id bigint PRIMARY KEY, note text, "
            "updated_at timestamptz NOT NULL, deleted_at timestamptz)"
        )
        with conn.transaction():  # one bulk write: every row at the mark, one version
            conn.execute(
                "INSERT INTO t SELECT i, 'n' || i, %s, NULL FROM generate_series(1, 5) i",
                (MARK,),
            )
        conn.execute("INSERT INTO t VALUES (6, 'old', %s, NULL)", (BEFORE,))
        yield conn


def _xmin(conn: psycopg.Connection, row_id: int) -> int:
    found = conn.execute("SELECT xmin::text::bigint FROM t WHERE id = %s", (row_id,)).fetchone()
    assert found is not None
    return int(found[0])


def _ids(src: PostgresSource, **kwargs: Any) -> list[int]:
    batches = list(src.read("t", ["id", "note"], cursor=["updated_at"], **kwargs))
    for batch in batches:
        assert batch.schema.names == ["id", "note"]  # the version column never leaks out
    return sorted(pa.Table.from_batches(batches).column("id").to_pylist()) if batches else []


def test_a_read_records_the_versions_of_the_rows_at_the_mark(
    db: psycopg.Connection, pg_url: str
) -> None:
    versions: set[int] = set()
    with PostgresSource(pg_url) as src:
        assert _ids(src, versions_at=MARK, versions=versions) == [1, 2, 3, 4, 5, 6]
    assert versions == {_xmin(db, 1)}  # the row before the mark adds nothing


def test_the_next_read_leaves_out_only_what_was_read(db: psycopg.Connection, pg_url: str) -> None:
    with PostgresSource(pg_url) as src:
        versions: set[int] = set()
        assert _ids(src, since=MARK, versions_at=MARK, versions=versions) == [1, 2, 3, 4, 5]
        assert _ids(src, since=MARK, skip_versions=sorted(versions)) == []  # a rerun reads none
        # Written since: a row committed later at the very same value, a row updated in
        # place without moving its cursor, a row past the mark, a soft delete.
        db.execute("INSERT INTO t VALUES (7, 'late', %s, NULL)", (MARK,))
        db.execute("UPDATE t SET note = 'changed' WHERE id = 2")
        db.execute("UPDATE t SET updated_at = updated_at + interval '1 s' WHERE id = 3")
        db.execute("UPDATE t SET deleted_at = %s WHERE id = 4", (MARK,))
        assert _ids(src, since=MARK, skip_versions=sorted(versions)) == [2, 3, 4, 7]
        assert _ids(src, since=MARK) == [1, 2, 3, 4, 5, 7]  # without versions: all again


def test_a_later_cursor_column_keeps_the_row(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE tokens (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, "
            "revoked_at timestamptz)"
        )
        with conn.transaction():
            conn.execute("INSERT INTO tokens VALUES (1, %s, NULL), (2, %s, %s)", (MARK,) * 3)
        conn.execute("INSERT INTO tokens VALUES (3, %s, NULL)", (BEFORE,))
        versions: set[int] = set()
        cursor = ["created_at", "revoked_at"]
        with PostgresSource(pg_url) as src:

            def ids(**kwargs: Any) -> list[int]:
                rows = list(src.read("tokens", ["id"], cursor=cursor, since=MARK, **kwargs))
                return sorted(pa.Table.from_batches(rows).column("id").to_pylist()) if rows else []

            assert ids(versions_at=MARK, versions=versions) == [1, 2]
            conn.execute("UPDATE tokens SET revoked_at = %s WHERE id = 3", (MARK,))
            assert ids(skip_versions=sorted(versions)) == [3]  # revoked at the mark since
            later = datetime(2024, 6, 1, tzinfo=UTC)
            conn.execute("UPDATE tokens SET revoked_at = %s WHERE id = 1", (later,))
            assert ids(skip_versions=sorted(versions)) == [1, 3]


def test_versions_are_written_as_numbers_only() -> None:
    where = cursor_condition([('"ts"', "timestamptz")], "'2024-05-01'", [7, 2, 7, 1_000_000])
    assert "'{7,1000000}'::xid[]" in where  # sorted, unique, the reserved ids 0-2 left out
    assert cursor_condition([('"ts"', "timestamptz")], "'x'", [0, 1, 2]) == (
        "(\"ts\" >= ('x'::timestamptz))"
    )
    with pytest.raises(ValueError):
        cursor_condition([('"ts"', "timestamptz")], "'x'", ["1); DROP TABLE t; --"])


def test_a_server_without_row_versions_reads_every_row(db: psycopg.Connection, pg_url: str) -> None:
    with PostgresSource(pg_url) as src:
        versions: set[int] = set()
        assert _ids(src, since=MARK, versions_at=MARK, versions=versions) == [1, 2, 3, 4, 5]
        assert src._versioned is True  # PostgreSQL itself: asked once, and it has them
        src._versioned = False  # as a server speaking the protocol without xmin answers
        again: set[int] = set()
        skip = sorted(versions)
        assert _ids(src, since=MARK, skip_versions=skip, versions_at=MARK, versions=again) == [
            1,
            2,
            3,
            4,
            5,
        ]
        assert again == set()


def test_a_source_column_named_like_the_version_column_is_kept(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE odd (id bigint PRIMARY KEY, _sm_version text, ts timestamptz)")
        conn.execute("INSERT INTO odd VALUES (1, 'mine', %s), (2, NULL, %s)", (MARK, BEFORE))
    versions: set[int] = set()
    with PostgresSource(pg_url) as src:
        rows = list(
            src.read(
                "odd", ["id", "_sm_version"], cursor=["ts"], versions_at=MARK, versions=versions
            )
        )
    table = pa.Table.from_batches(rows).sort_by("id")
    assert table.column_names == ["id", "_sm_version"]
    assert table.column("_sm_version").to_pylist() == ["mine", None]
    assert len(versions) == 1

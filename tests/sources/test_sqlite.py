"""SQLite specifics: read-only, paths, declared types, stored values that do not fit."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from safemirror.errors import ExitCode, SourceError
from safemirror.sources.registry import open_source
from safemirror.sources.sqlite import SqliteSource
from safemirror.sources.sqlite_values import parse_timestamps
from tests.conftest import sqlite_db


def test_the_file_is_never_written(sqlite_url: str) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns
    with SqliteSource(sqlite_url) as src:
        list(src.read("events", ["id", "ts"], since="2024-02-01", cursor=["updated_at"]))
        src.sample("events", ["outcome"], 50)
        src.value_counts("events", "outcome", 2)
        src.max_cursor("events", ["ts"])
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            src._db.execute("CREATE TABLE intruder (a)")
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns) == before
    assert not Path(f"{path}-journal").exists() and not Path(f"{path}-wal").exists()


def test_a_missing_file_is_an_error_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no SQLite database"):
        open_source(f"sqlite:///{tmp_path}/absent.db")
    assert not (tmp_path / "absent.db").exists()


def test_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sqlite_db(tmp_path / "rel.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    assert "t" in open_source("sqlite:///rel.db", base_dir=tmp_path).tables()
    monkeypatch.chdir(tmp_path)
    assert "t" in open_source("sqlite:///rel.db").tables()


def test_declared_types(tmp_path: Path) -> None:
    url = sqlite_db(
        tmp_path / "t.db",
        """CREATE TABLE t (id INTEGER PRIMARY KEY, a INT8,
        b SMALLINT, c FLOAT, d NUMERIC, e DECIMAL(5,1), f VARCHAR(10), g DATETIME,
        h BOOL, i BLOB, j, k UUID, l INTEGER, m INT, n INT4)""",
        "CREATE TABLE pair (a INTEGER, b INTEGER, PRIMARY KEY (a, b))",
        "INSERT INTO t (id, l) VALUES (1, 1700000000000), (2, -9223372036854775808)",
    )
    with SqliteSource(url) as src:
        info = src.tables()["t"]
        assert {c.name: c.type for c in info.columns} == {
            "id": "bigint",
            "a": "bigint",
            "b": "integer",
            "c": "double",
            "d": "double",
            "e": "numeric",
            "f": "text",
            "g": "timestamp",
            "h": "boolean",
            "i": "blob",
            "j": "text",
            "k": "text",
            "l": "bigint",  # SQLite's INTEGER is 64-bit
            "m": "integer",
            "n": "integer",
        }
        assert not info.column("id").nullable
        pair = src.tables()["pair"]
        assert pair.primary_key == ("a", "b")
        assert [c.type for c in pair.columns] == ["bigint", "bigint"]  # not rowid aliases
        assert src.schema_of("t", ["e", "g"]) == pa.schema(
            [("e", pa.decimal128(5, 1)), ("g", pa.timestamp("us", tz="UTC"))]
        )
        big = pa.Table.from_batches(list(src.read("t", ["id", "l"]))).column("l")
        assert big.type == pa.int64() and big.to_pylist() == [1700000000000, -(2**63)]


def test_timestamp_text_styles() -> None:
    parsed = parse_timestamps(
        pa.array(
            [
                "2024-01-02 03:04:05",
                "2024-01-02T03:04:05.123456",
                "2024-01-02 03:04:05+00:00",
                "2024-01-02T05:04:05+02:00",
                "2024-01-02 03:04:05Z",
                "2024-01-02",
                None,
            ]
        )
    )
    assert parsed.to_pylist() == [
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2024, 1, 2, 3, 4, 5, 123456, UTC),
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2024, 1, 2, tzinfo=UTC),
        None,
    ]


def test_values_that_do_not_fit_name_the_column(tmp_path: Path) -> None:
    url = sqlite_db(
        tmp_path / "bad.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, ts TIMESTAMP, small INT)",
        "INSERT INTO t VALUES (1, 5, '2024-01-01 00:00:00', 7), (2, 'five', 'soon', 3000000000)",
    )
    with SqliteSource(url) as src:
        with pytest.raises(SourceError, match="column 'n'"):
            list(src.read("t", ["id", "n"]))
        with pytest.raises(SourceError, match="column 'small'"):  # beyond a 32-bit INT
            list(src.read("t", ["id", "small"]))
        with pytest.raises(SourceError, match="column 'ts'"):
            list(src.read("t", ["ts"]))


@pytest.mark.parametrize("batch_rows", [65_536, 2])  # the text in the first batch, or later
def test_text_in_a_number_column_is_refused_not_read_as_zero(
    tmp_path: Path, batch_rows: int
) -> None:
    """SQLite's CAST reads 'n/a' as 0.0; the driver, given one text among numbers, formats
    the whole batch as text to 7 digits. Either would change the data without a word."""
    url = sqlite_db(
        tmp_path / "text.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, r REAL, d DECIMAL(10,2), n INTEGER)",
        "INSERT INTO t VALUES (1, 1.123456789, 1.5, 1), (2, 2.5, 2, 2), (3, 3.5, 3.25, 3)",
        "INSERT INTO t VALUES (4, 'Hunter2-secret', 'Hunter2-secret', 'Hunter2-secret')",
    )
    with SqliteSource(url) as src:
        for column in ("r", "d", "n"):
            with pytest.raises(SourceError) as caught:
                list(src.read("t", ["id", column], batch_rows=batch_rows))
            message = caught.value.message + (caught.value.hint or "")
            assert f"column {column!r}" in message
            assert "1 text" in message  # what it holds, by storage class
            assert "Hunter2" not in message  # never the value


def test_numbers_of_both_classes_read_exactly(tmp_path: Path) -> None:
    """A NUMERIC-affinity column keeps 2 as an integer and 2.5 as a real: both read."""
    url = sqlite_db(
        tmp_path / "num.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, d DECIMAL(10,2), r REAL)",
        "INSERT INTO t VALUES (1, 2, 1.123456789), (2, 2.5, 7)",
    )
    with SqliteSource(url) as src:
        table = pa.Table.from_batches(list(src.read("t", ["d", "r"])))
    assert [str(v) for v in table["d"].to_pylist()] == ["2.00", "2.50"]
    assert table["r"].to_pylist() == [1.123456789, 7.0]


def test_without_rowid_tables_can_be_sampled(tmp_path: Path) -> None:
    url = sqlite_db(
        tmp_path / "w.db",
        "CREATE TABLE w (k TEXT PRIMARY KEY) WITHOUT ROWID",
        "INSERT INTO w VALUES ('a'), ('b'), ('c')",
    )
    with SqliteSource(url) as src:
        assert src.sample("w", ["k"], 2).num_rows == 2


def test_virtual_tables_and_their_data_tables_are_left_out(tmp_path: Path) -> None:
    """A full-text index's rows come from its module, and its internal tables hold the
    indexed words: neither is listed (so never read), and ``left_out`` names them."""
    url = sqlite_db(
        tmp_path / "fts.db",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        "CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id')",
        "CREATE VIEW recent AS SELECT id FROM notes",
        "INSERT INTO notes VALUES (1, 'call Ann on Monday')",
        "INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')",
    )
    with SqliteSource(url) as src:
        assert list(src.tables()) == ["notes"]
        left = src.left_out()
    assert "notes_fts" in left and "notes_fts_idx" in left and "notes" not in left


def test_generated_columns_are_not_listed(tmp_path: Path) -> None:
    """SQLite does not say what a generated column reads (``id * 2`` would give a
    pseudonymized key away), so none reaches the mirror."""
    url = sqlite_db(
        tmp_path / "gen.db",
        "CREATE TABLE m (id INTEGER PRIMARY KEY, w REAL, "
        "twice INTEGER GENERATED ALWAYS AS (id * 2) VIRTUAL, "
        "kg INTEGER GENERATED ALWAYS AS (round(w)) STORED)",
    )
    with SqliteSource(url) as src:
        assert [c.name for c in src.tables()["m"].columns] == ["id", "w"]


def test_foreign_keys(tmp_path: Path) -> None:
    url = sqlite_db(
        tmp_path / "fk.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY)",
        "CREATE TABLE devices (id INTEGER PRIMARY KEY, "
        "owner INTEGER REFERENCES users, user_id INTEGER REFERENCES users (id))",
        "CREATE TABLE homes (owner INTEGER REFERENCES users, no INTEGER, PRIMARY KEY (owner, no))",
        "CREATE TABLE readings (owner INTEGER, no INTEGER, by_user INTEGER REFERENCES users, "
        "FOREIGN KEY (owner, no) REFERENCES homes, FOREIGN KEY (by_user, no) REFERENCES homes)",
    )
    with SqliteSource(url) as src:
        assert src.foreign_keys() == {
            "devices": {"owner": ("users", "id"), "user_id": ("users", "id")},
            "homes": {"owner": ("users", "id")},
            # composite keys column by column; the key of fewest columns first
            "readings": {
                "owner": ("homes", "owner"),
                "no": ("homes", "no"),
                "by_user": ("users", "id"),
            },
        }


def test_times_kept_as_numbers_read_as_sqlite_reads_them(tmp_path: Path) -> None:
    """SQLite keeps a time as ISO text, Unix time (INTEGER) or a Julian day (REAL); every
    form reads as the instant it stands for, in reads, watermarks and incremental reads."""
    url = sqlite_db(
        tmp_path / "times.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME, day DATE)",
        "INSERT INTO t VALUES (1, 1700000000, 1700000000)",  # Unix seconds
        "INSERT INTO t VALUES (2, 1700000000.25, '2023-11-15')",  # with a fraction
        "INSERT INTO t VALUES (3, 2460000.5, 2460000.5)",  # a Julian day
        "INSERT INTO t VALUES (4, '2023-11-16T01:00:00+02:00', '2023-11-16')",
        "INSERT INTO t VALUES (5, NULL, NULL)",
    )
    with SqliteSource(url) as src:
        read = pa.Table.from_batches(list(src.read("t", ["id", "at", "day"]))).sort_by("id")
        assert read.column("at").to_pylist() == [
            datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
            datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=UTC),
            datetime(2023, 2, 25, tzinfo=UTC),
            datetime(2023, 11, 15, 23, tzinfo=UTC),
            None,
        ]
        assert [d.isoformat() if d else None for d in read.column("day").to_pylist()] == [
            "2023-11-14",
            "2023-11-15",
            "2023-02-25",
            "2023-11-16",
            None,
        ]
        assert src.max_cursor("t", ["at"]) == datetime(2023, 11, 15, 23, tzinfo=UTC)
        since = datetime(2023, 11, 14, 22, 13, 20, 100000, tzinfo=UTC)
        later = pa.Table.from_batches(list(src.read("t", ["id"], since=since, cursor=["at"])))
        assert sorted(later.column("id").to_pylist()) == [2, 4]


def test_a_number_no_time_reading_fits_is_refused(tmp_path: Path) -> None:
    """Milliseconds since 1970 are neither Unix seconds nor a Julian day: refused, loudly,
    rather than read as NULL."""
    url = sqlite_db(
        tmp_path / "ms.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME)",
        "INSERT INTO t VALUES (1, 1700000000123)",
    )
    with SqliteSource(url) as src, pytest.raises(SourceError, match="column 'at'"):
        list(src.read("t", ["id", "at"]))


def test_times_sqlite_cannot_read_are_not_missed_by_incremental_reads(tmp_path: Path) -> None:
    """Arrow reads an offset written '+0200' or '+02' and text with spaces around it;
    SQLite's julianday() does not. Such a row must still be read since a watermark, and
    count towards the next one, or its changes would never reach the mirror."""
    url = sqlite_db(
        tmp_path / "zones.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at TIMESTAMP)",
        "INSERT INTO t VALUES (1, '2024-07-01 10:00:00+0200'), (2, ' 2024-07-01 09:00:00 ')",
        "INSERT INTO t VALUES (3, '2024-07-01 11:00:00+02'), (4, '2024-01-01 00:00:00')",
        "INSERT INTO t VALUES (5, '2024-01-01 00:00:00+0200')",
    )
    since = datetime(2024, 6, 1, tzinfo=UTC)
    with SqliteSource(url) as src:
        later = pa.Table.from_batches(list(src.read("t", ["id"], since=since, cursor=["at"])))
        assert sorted(later.column("id").to_pylist()) == [1, 2, 3]
        assert src.max_cursor("t", ["at"]) == datetime(2024, 7, 1, 9, tzinfo=UTC)


def test_numeric_integers_beyond_double_precision_read_exactly(tmp_path: Path) -> None:
    """A NUMERIC(19,0) key holds integers SQLite keeps exactly; read through a REAL, one
    beyond 2**53 would come out rounded (a wrong value, and a pseudonym that no longer
    joins the BIGINT column holding the same number)."""
    url = sqlite_db(
        tmp_path / "wide.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n NUMERIC(19,0), d DECIMAL(20,2))",
        "INSERT INTO t VALUES (1, 12345678901234567, 123456789012345678), (2, 7, 0.125)",
        "INSERT INTO t VALUES (3, 999999999999999999, 2.5), (4, NULL, -9007199254740993)",
    )
    with SqliteSource(url) as src:
        read = pa.Table.from_batches(list(src.read("t", ["id", "n", "d"])))
    assert [str(v) for v in read.column("n").to_pylist()] == [
        "12345678901234567",
        "7",
        "999999999999999999",
        "None",
    ]
    assert [str(v) for v in read.column("d").to_pylist()] == [
        "123456789012345678.00",
        "0.12",  # a REAL rounds as before
        "2.50",
        "-9007199254740993.00",
    ]


def test_wide_rows_come_in_smaller_batches(tmp_path: Path) -> None:
    """The driver counts rows, not bytes: a table of 1 MB documents read 131,072 rows to a
    batch would hold the whole table in memory. Its batches hold about 64 MB instead."""
    url = sqlite_db(
        tmp_path / "docs.db",
        "CREATE TABLE d (id INTEGER PRIMARY KEY, body BLOB, title TEXT)",
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200) "
        "INSERT INTO d SELECT i, zeroblob(1000000), 'doc' FROM c",
    )
    with SqliteSource(url) as src:
        sizes = [b.num_rows for b in src.read("d", ["id", "body"])]
        assert sum(sizes) == 200 and max(sizes) <= 70
        narrow = [b.num_rows for b in src.read("d", ["id", "title"])]
        assert narrow == [200]


def test_an_empty_file_is_no_database_and_stays_untouched(tmp_path: Path) -> None:
    """SQLite takes an empty file for an empty database: a policy's every table would
    then be reported as vanished, when the path is what is wrong."""
    path = tmp_path / "empty.db"
    path.touch()
    before = os.stat(path).st_mtime_ns
    with pytest.raises(SourceError, match="empty file, not a SQLite database") as err:
        open_source(f"sqlite:///{path}")
    assert err.value.exit_code == ExitCode.SOURCE
    assert path.stat().st_size == 0 and os.stat(path).st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == ["empty.db"]  # no journal, no WAL


def test_timestamp_text_sqlite_reads_is_read_alike() -> None:
    """Text SQLite's date functions read: nanoseconds (Java's ``Instant``, Go), spaces
    before the offset, a lower-case ``z``; each the same instant, never refused."""
    texts = [
        "2026-01-01T04:15:00.123456789Z",
        "2026-01-01 10:00:00.123456 +05:45",
        "2026-01-01T04:15:00.1234567z",
        " 2026-01-01T00:45:00.123456999-03:30 ",
    ]
    expected = datetime(2026, 1, 1, 4, 15, 0, 123456, UTC)
    assert parse_timestamps(pa.array(texts)).to_pylist() == [expected] * len(texts)


def test_nanosecond_stamps_sync_incrementally(tmp_path: Path) -> None:
    url = sqlite_db(
        tmp_path / "nanos.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at TIMESTAMP)",
        "INSERT INTO t VALUES (1, '2024-07-01T10:00:00.000000001Z')",
        "INSERT INTO t VALUES (2, '2024-01-01T00:00:00.999999999Z')",
    )
    with SqliteSource(url) as src:
        since = datetime(2024, 6, 1, tzinfo=UTC)
        later = pa.Table.from_batches(list(src.read("t", ["id"], since=since, cursor=["at"])))
        assert later.column("id").to_pylist() == [1]
        assert src.max_cursor("t", ["at"]) == datetime(2024, 7, 1, 10, tzinfo=UTC)

"""The next watermark from PostgreSQL stops where rows not visible yet may be stamped."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg
import pyarrow as pa
import pytest

from safemirror.errors import SourceError
from safemirror.sources import postgres
from safemirror.sources.postgres import PostgresSource

pytestmark = pytest.mark.postgres


@pytest.fixture
def stamped(pg_url: str) -> str:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE t (id bigint PRIMARY KEY, at timestamptz, naive timestamp, "
            "day date, n bigint)"
        )
        conn.execute(
            "INSERT INTO t VALUES (1, '2024-01-01 00:00+00', '2024-01-01', '2024-01-01', 1)"
        )
    return pg_url


def _insert_now(conn: psycopg.Connection, row: int) -> None:
    conn.execute("SET TIME ZONE 'UTC'")  # a naive timestamp holds UTC, as the sync reads it
    conn.execute("INSERT INTO t VALUES (%s, now(), now(), now()::date, %s)", (row, row))


def test_the_watermark_stops_at_the_oldest_open_transaction(stamped: str) -> None:
    with PostgresSource(stamped) as src, psycopg.connect(stamped) as late:
        _insert_now(late, 2)  # not committed: stamped with its transaction's start
        (started,) = late.execute("SELECT now()").fetchone()  # type: ignore[misc]
        with psycopg.connect(stamped, autocommit=True) as other:
            _insert_now(other, 3)  # committed, and stamped later
        (later,) = src._query("SELECT max(at) FROM t").column(0).to_pylist()
        assert later > started
        assert src.max_cursor("t", ["at"]) == started
        assert src.max_cursor("t", ["naive"]) == started
        assert src.max_cursor("t", ["day"]) == started.astimezone(UTC).date()
        assert src.max_cursor("t", ["n"]) == 3  # a counter cannot be held back
        # what the next run reads from that watermark: the committed row, and the late
        # one once it commits
        since = src.max_cursor("t", ["at"])
        read = pa.Table.from_batches(list(src.read("t", ["id"], since=since, cursor=["at"])))
        assert read.column("id").to_pylist() == [3]
        late.commit()
        read = pa.Table.from_batches(list(src.read("t", ["id"], since=since, cursor=["at"])))
        assert sorted(read.column("id").to_pylist()) == [2, 3]
        assert src.max_cursor("t", ["at"]) == later  # nothing open: the greatest value


def test_a_row_stamped_in_the_future_does_not_take_the_watermark_there(stamped: str) -> None:
    with psycopg.connect(stamped, autocommit=True) as conn:
        conn.execute("INSERT INTO t VALUES (9, now() + interval '10 years', NULL, NULL, 9)")
    with PostgresSource(stamped) as src:
        mark = src.max_cursor("t", ["at"])
        now = datetime.now(UTC)
        assert now - timedelta(minutes=5) < mark <= now + timedelta(minutes=5)
        read = pa.Table.from_batches(list(src.read("t", ["id"], since=mark, cursor=["at"])))
        assert read.column("id").to_pylist() == [9]  # read again until its time comes


def test_a_role_that_cannot_see_other_roles_transactions_says_so(
    stamped: str, pg_reader_url: str
) -> None:
    with PostgresSource(pg_reader_url) as src:
        assert src.max_cursor("t", ["at"]) is not None
        assert src.notes() == []  # no other role's session on the database: nothing hidden
    with PostgresSource(pg_reader_url) as src, psycopg.connect(stamped) as late:
        _insert_now(late, 2)  # another role's open transaction, hidden from this role
        with psycopg.connect(stamped, autocommit=True) as other:
            _insert_now(other, 3)
        mark = src.max_cursor("t", ["at"])
        (started,) = late.execute("SELECT now()").fetchone()  # type: ignore[misc]
        assert mark > started  # it could not be held back...
        (note,) = src.notes()  # ...and the source says so, with the fix
        assert "GRANT pg_read_all_stats" in note and "could be missed" in note
    with psycopg.connect(stamped, autocommit=True) as admin:
        role = pg_reader_url.split("//", 1)[1].split(":", 1)[0]
        admin.execute(f'GRANT pg_read_all_stats TO "{role}"')
    with PostgresSource(pg_reader_url) as src, psycopg.connect(stamped) as late:
        _insert_now(late, 4)
        (started,) = late.execute("SELECT now()").fetchone()  # type: ignore[misc]
        with psycopg.connect(stamped, autocommit=True) as other:
            _insert_now(other, 5)
        assert src.max_cursor("t", ["at"]) == started  # with the grant it sees the start
        assert src.notes() == []


@pytest.mark.parametrize("column_type", ["timestamptz(0)", "stamp"])
def test_a_stamp_rounded_down_to_its_column_is_still_read(pg_url: str, column_type: str) -> None:
    """A ``timestamptz(0)`` column rounds ``now()`` to the second: down, by up to half a
    second, for a transaction that started in the first half of one; so does a column of
    a domain over one (here a domain over a domain)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE DOMAIN second AS timestamptz(0)")
        conn.execute("CREATE DOMAIN stamp AS second")
        conn.execute(f"CREATE TABLE coarse (id bigint PRIMARY KEY, at {column_type})")
        conn.execute("INSERT INTO coarse VALUES (1, '2024-01-01 00:00:00+00')")
    with PostgresSource(pg_url) as src, psycopg.connect(pg_url) as late:
        for _ in range(50):  # a transaction that starts early in its second
            (started,) = late.execute("SELECT now()").fetchone()  # type: ignore[misc]
            if started.microsecond < 400_000:
                break
            late.rollback()
            time.sleep(0.1)
        late.execute("INSERT INTO coarse VALUES (2, now())")
        with psycopg.connect(pg_url, autocommit=True) as other:
            time.sleep(1.1)  # the next second, at least
            other.execute("INSERT INTO coarse VALUES (3, now())")
        since = src.max_cursor("coarse", ["at"])
        assert since == started.replace(microsecond=0)
        late.commit()
        read = pa.Table.from_batches(list(src.read("coarse", ["id"], since=since, cursor=["at"])))
        assert sorted(read.column("id").to_pylist()) == [2, 3]


@pytest.mark.parametrize("per_query", [500, 2])
def test_the_watermarks_of_many_tables_are_taken_at_once(
    stamped: str, per_query: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``max_cursors`` gives what ``max_cursor`` gives for each table, held back alike,
    whatever the cursor's type, and an empty table's is None; also when the tables take
    several queries."""
    monkeypatch.setattr(postgres, "_MARKS_PER_QUERY", per_query)
    with psycopg.connect(stamped, autocommit=True) as conn:
        conn.execute("CREATE TABLE empty (id bigint PRIMARY KEY, at timestamptz)")
        conn.execute("CREATE TABLE u (id bigint PRIMARY KEY, v bigint, w bigint)")
        conn.execute("INSERT INTO u VALUES (1, 5, 40), (2, 30, 7)")
    cursors = {"t": ["at", "naive"], "u": ["v", "w"], "empty": ["at"]}
    with PostgresSource(stamped) as src, psycopg.connect(stamped) as late:
        _insert_now(late, 2)  # open: every timestamp and date watermark stops at its start
        (started,) = late.execute("SELECT now()").fetchone()  # type: ignore[misc]
        with psycopg.connect(stamped, autocommit=True) as other:
            _insert_now(other, 3)
        marks = src.max_cursors(cursors)
        assert marks == {"t": started, "u": 40, "empty": None}
        assert src.max_cursors({"t": ["day"]}) == {"t": started.astimezone(UTC).date()}
        for table, cursor in cursors.items():
            assert src.max_cursor(table, cursor) == marks[table]
        assert src.max_cursors({}) == {}
        with pytest.raises(SourceError, match="'nope'"):
            src.max_cursors({"t": ["at"], "u": ["nope"]})


def test_a_zoneless_stamp_west_of_utc_is_still_read(pg_url: str) -> None:
    """Where the database's time zone lies west of UTC, ``now()`` lands in a column with
    no time zone hours before the UTC instant: the watermark must stop there."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE local (id bigint PRIMARY KEY, at timestamp, day date)")
        conn.execute("INSERT INTO local VALUES (1, '2024-01-01', '2024-01-01')")
        (database,) = conn.execute("SELECT current_database()").fetchone()  # type: ignore[misc]
        conn.execute(f"ALTER DATABASE \"{database}\" SET TimeZone = 'Pacific/Pago_Pago'")
    insert = "INSERT INTO local VALUES (%s, now(), current_date)"
    with PostgresSource(pg_url) as src, psycopg.connect(pg_url) as late:
        late.execute(insert, (2,))  # not committed: stamped -11 h from its start
        (started,) = late.execute("SELECT now()::timestamp").fetchone()  # type: ignore[misc]
        with psycopg.connect(pg_url, autocommit=True) as other:
            other.execute(insert, (3,))
        since = src.max_cursor("local", ["at"])
        assert since == started.replace(tzinfo=UTC)
        day = src.max_cursor("local", ["day"])
        assert day == started.date()
        late.commit()
        for cursor, mark in (("at", since), ("day", day)):
            read = src.read("local", ["id"], since=mark, cursor=[cursor])
            assert sorted(pa.Table.from_batches(list(read)).column("id").to_pylist()) == [2, 3]


def _falling_back_in_half_an_hour(conn: psycopg.Connection) -> str:
    """A POSIX time zone at UTC until half an hour from now, then an hour west of it: its
    clocks go back an hour then, and the half hour to come happens twice (west of UTC, or
    at it, the present does not hold the watermark back that far)."""
    (now,) = conn.execute("SELECT clock_timestamp()").fetchone()  # type: ignore[misc]
    wall = now.astimezone(UTC)  # summer time: UTC
    day = wall.timetuple().tm_yday
    minutes = wall.hour * 60 + wall.minute + 30
    if wall.year % 4 == 0 and day >= 60:  # POSIX 'Jn' counts no 29 February
        day, minutes = (59, minutes + 24 * 60) if day == 60 else (day - 1, minutes)
    return f"XST1XDT0,J1/0,J{day}/{minutes // 60}:{minutes % 60:02d}"


def test_a_zoneless_stamp_in_the_hour_that_repeats_is_still_read(pg_url: str) -> None:
    """Where clocks go back (the end of daylight saving time), a row stamped by ``now()``
    in the second pass of the repeated hour holds an earlier wall-clock time than one
    stamped in the first pass: a watermark taken in the first pass must leave room for it."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        zone = _falling_back_in_half_an_hour(conn)
        conn.execute("CREATE TABLE local (id bigint PRIMARY KEY, at timestamp)")
        (database,) = conn.execute("SELECT current_database()").fetchone()  # type: ignore[misc]
        conn.execute(f"ALTER DATABASE \"{database}\" SET TimeZone = '{zone}'")
    with psycopg.connect(pg_url, autocommit=True) as writer:
        writer.execute("INSERT INTO local VALUES (1, now())")  # the first pass
        (first,) = writer.execute("SELECT now()::timestamp").fetchone()  # type: ignore[misc]
    with PostgresSource(pg_url) as src:
        mark = src.max_cursor("local", ["at"])
        again = first - timedelta(minutes=20)  # what the clock reads in the second pass
        assert mark <= again.replace(tzinfo=UTC)
        with psycopg.connect(pg_url, autocommit=True) as writer:
            writer.execute("INSERT INTO local VALUES (2, %s)", (again,))
        read = pa.Table.from_batches(list(src.read("local", ["id"], since=mark, cursor=["at"])))
        assert 2 in read.column("id").to_pylist()

"""PostgreSQL specifics: type mapping, schemas, the bound cursor, a read-only session."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
import pytest

from safemirror.errors import AccessDenied, SourceError
from safemirror.sources.common import redact_url, with_query
from safemirror.sources.pg_sql import since_literal
from safemirror.sources.postgres import PostgresSource
from safemirror.sources.registry import open_source
from tests.conftest import free_port, require

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def typed_url(pg_module_url: str) -> str:
    with psycopg.connect(pg_module_url, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('calm', 'angry')")
        conn.execute("""CREATE TABLE typed (id int2 PRIMARY KEY, f4 real, n numeric,
            n2 numeric(10, 2), big numeric(50, 2), u uuid, ip inet, m macaddr, j jsonb,
            e mood, arr text[], iv interval, c char(4), v varchar(8), naive timestamp,
            d date, b bytea)""")
        conn.execute("""INSERT INTO typed VALUES (1, 1.5, 3.25, 12.34, 1.5,
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '10.0.0.1', '08:00:2b:01:02:03',
            '{"a": 1}', 'calm', '{x,y}', '1 day', 'ab', 'vv', '2024-01-02 03:04:05.123456',
            '2024-01-02', '\\x0102'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, '2024-06-01 00:00:00', NULL, NULL)""")
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.hidden (id bigint PRIMARY KEY, note text)")
        conn.execute("INSERT INTO app.hidden VALUES (1, 'in app')")
    return pg_module_url


@pytest.fixture
def typed(typed_url: str) -> PostgresSource:
    src = PostgresSource(typed_url)
    yield src  # type: ignore[misc]
    src.close()


def test_types_map_to_canonical_arrow(typed: PostgresSource) -> None:
    info = typed.tables()["typed"]
    assert {c.name: c.type for c in info.columns} == {
        "id": "integer",
        "f4": "double",
        "n": "double",
        "n2": "numeric",
        "big": "double",
        "u": "text",
        "ip": "text",
        "m": "text",
        "j": "text",
        "e": "text",
        "arr": "text",
        "iv": "text",
        "c": "text",
        "v": "text",
        "naive": "timestamp",
        "d": "date",
        "b": "blob",
    }
    columns = [c.name for c in info.columns]
    table = pa.Table.from_batches(list(typed.read("typed", columns))).sort_by("id")
    assert table.schema == typed.schema_of("typed", columns)
    assert table.schema.field("n2").type == pa.decimal128(10, 2)
    assert table.schema.field("naive").type == pa.timestamp("us", tz="UTC")
    assert table.to_pylist()[0] == {
        "id": 1,
        "f4": 1.5,
        "n": 3.25,
        "n2": Decimal("12.34"),
        "big": 1.5,
        "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "ip": "10.0.0.1",
        "m": "08:00:2b:01:02:03",
        "j": '{"a": 1}',
        "e": "calm",
        "arr": "{x,y}",
        "iv": "1 day",
        "c": "ab",
        "v": "vv",
        "naive": datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        "d": datetime(2024, 1, 2).date(),
        "b": b"\x01\x02",
    }


def test_types_beyond_the_built_in_ones_are_read_as_text(typed: PostgresSource) -> None:
    # The driver decodes built-in types only; the reader selects every other as text.
    assert typed.value_counts("typed", "e", 1) == ["calm"]
    assert typed.value_counts("typed", "ip", 1) == ["10.0.0.1"]
    sampled = typed.sample("typed", ["e", "m", "arr"], 10).sort_by("e")
    assert sampled.to_pylist()[0] == {"e": "calm", "m": "08:00:2b:01:02:03", "arr": "{x,y}"}
    assert typed.matching("typed", "e", ["calm", "sad"]) == ["calm"]


def test_a_domain_over_a_domain_reads_as_its_base_type(pg_url: str) -> None:
    """A domain's column is its base type's, also down a chain of domains (with the type
    modifier the chain sets): not text."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE DOMAIN money2 AS numeric(10, 2)")
        conn.execute("CREATE DOMAIN price AS money2 CHECK (VALUE >= 0)")
        conn.execute("CREATE DOMAIN ident AS bigint")
        conn.execute("CREATE DOMAIN user_id AS ident")
        conn.execute("CREATE DOMAIN stamp AS timestamptz")
        conn.execute("CREATE DOMAIN changed_at AS stamp")
        conn.execute("CREATE TABLE t (id user_id PRIMARY KEY, p price, m money2, at changed_at)")
        conn.execute("INSERT INTO t VALUES (7, 9.99, 1.5, '2024-01-02 03:04:05+00')")
    with PostgresSource(pg_url) as src:
        info = src.tables()["t"]
        assert {c.name: (c.type, c.source_type) for c in info.columns} == {
            "id": ("bigint", "user_id"),
            "p": ("numeric", "numeric(10,2)"),
            "m": ("numeric", "numeric(10,2)"),
            "at": ("timestamp", "changed_at"),
        }
        read = pa.Table.from_batches(list(src.read("t", ["id", "p", "m", "at"])))
        assert read.to_pylist() == [
            {
                "id": 7,
                "p": Decimal("9.99"),
                "m": Decimal("1.50"),
                "at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            }
        ]
        assert src.max_cursor("t", ["at"]) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_column_the_driver_cannot_decode_is_refused(typed: PostgresSource) -> None:
    with pytest.raises(SourceError, match="does not decode"):
        typed._query("SELECT u FROM typed")  # a uuid, not selected as text
    with pytest.raises(SourceError, match="does not decode"):
        list(
            typed._stream(
                "SELECT ip FROM typed",
                pa.schema([]),
                batch_rows=10,
                hint_bytes=1 << 20,
                table="typed",
            )
        )


def test_naive_timestamps_are_utc_for_cursors(typed: PostgresSource) -> None:
    assert typed.max_cursor("typed", ["naive"]) == datetime(2024, 6, 1, tzinfo=UTC)
    rows = list(
        typed.read("typed", ["id"], since=datetime(2024, 6, 1, tzinfo=UTC), cursor=["naive"])
    )
    assert pa.Table.from_batches(rows).column("id").to_pylist() == [2]


def test_schema_is_a_parameter(typed_url: str) -> None:
    with open_source(typed_url) as default:  # type: ignore[attr-defined]
        assert "hidden" not in default.tables()
    with open_source(f"{typed_url}?schema=app") as app:  # type: ignore[attr-defined]
        assert set(app.tables()) == {"hidden"}
        assert next(app.read("hidden", ["note"])).to_pylist() == [{"note": "in app"}]
    assert set(PostgresSource(typed_url, schema="app").tables()) == {"hidden"}


def test_a_schema_that_does_not_exist_is_an_error_not_an_empty_source(pg_url: str) -> None:
    """A typo in ?schema= would otherwise draft an empty policy, or find every table gone."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA empty_one")
    with PostgresSource(f"{pg_url}?schema=empty_one") as src:
        assert src.tables() == {}
    with PostgresSource(f"{pg_url}?schema=no_such") as src, pytest.raises(SourceError) as caught:
        src.tables()
    assert "schema 'no_such' does not exist" in caught.value.message
    assert "?schema=" in (caught.value.hint or "")


def test_since_is_a_quoted_literal_not_sql(postgres_url: str) -> None:
    hostile = "z'; DROP TABLE events; --"
    with PostgresSource(postgres_url) as src:
        assert list(src.read("events", ["id"], since=hostile, cursor=["outcome"])) == []
        assert src.max_cursor("events", ["id"]) == 5_000
        quoted = "zz'\\"  # a quote and a backslash: both plain characters in the literal
        assert list(src.read("events", ["id"], since=quoted, cursor=["outcome"])) == []


@pytest.mark.parametrize(
    ("value", "kind", "literal"),
    [
        (
            datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
            "timestamp",
            "'2024-01-02 03:04:05.000006+00:00'",
        ),
        (datetime(2024, 1, 2, tzinfo=UTC), "timestamp", "'2024-01-02 00:00:00+00:00'"),
        (datetime(2024, 1, 2).date(), "date", "'2024-01-02'"),
        (-42, "bigint", "'-42'"),
        (Decimal("1.5E+3"), "numeric", "'1.5E+3'"),
        ("it's", "text", "'it''s'"),
    ],
)
def test_since_literals(value: object, kind: str, literal: str) -> None:
    assert since_literal(value, kind) == literal


@pytest.mark.parametrize(
    ("value", "kind"),
    [("1; DROP TABLE x", "bigint"), (Decimal("NaN"), "numeric"), ("a\0b", "text")],
)
def test_since_literals_refuse_what_their_type_cannot_hold(value: object, kind: str) -> None:
    with pytest.raises(SourceError):
        since_literal(value, kind)


def test_incremental_reads_use_the_cursor_index(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The literal lets the planner see the range: an index, not a full scan."""
    sent: list[str] = []
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("ANALYZE events")
    with PostgresSource(postgres_url) as src:
        real = src._stream

        def record(sql: str, *args: Any, **kwargs: Any) -> Any:
            sent.append(sql)
            return real(sql, *args, **kwargs)

        monkeypatch.setattr(src, "_stream", record)
        rows = pa.Table.from_batches(list(src.read("events", ["id"], since=4990, cursor=["id"])))
        assert sorted(rows.column("id").to_pylist()) == list(range(4990, 5001))
    with psycopg.connect(postgres_url) as con:
        plan = [r[0] for r in con.execute("EXPLAIN " + sent[0]).fetchall()]
    assert "4990" in sent[0]
    assert not any("Seq Scan" in line for line in plan), plan


def test_the_session_is_read_only(postgres_url: str) -> None:
    with PostgresSource(postgres_url) as src:
        setting = src._query("SELECT current_setting('default_transaction_read_only')")
        assert setting.column(0).to_pylist() == ["on"]
        with pytest.raises(SourceError, match="read-only"):
            src._query("CREATE TABLE intruder (a int)")


def test_stream_sessions_opened_ahead_serve_the_reads(pg_url: str) -> None:
    watch = psycopg.connect(pg_url, autocommit=True)  # one session that counts the others
    watch.execute("CREATE TABLE a (id bigint PRIMARY KEY)")
    watch.execute("INSERT INTO a SELECT generate_series(1, 10)")

    def sessions() -> int:
        row = watch.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"  # no autovacuum
        ).fetchone()
        return int(row[0]) if row else 0

    try:
        with PostgresSource(pg_url) as src:
            src.open_streams(2)
            assert sessions() == 3  # the main session and two idle ones for the reads
            first, second = src.read("a", ["id"]), src.read("a", ["id"])
            assert next(first).num_rows == next(second).num_rows == 10  # two reads at once
            assert sessions() == 3  # on the sessions opened ahead
            assert list(first) == list(second) == []  # both ended: their sessions idle again
            src.open_streams(2)  # nothing more to open
            assert sessions() == 3
        deadline = time.monotonic() + 5  # a closed session's process ends a moment later
        while sessions() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sessions() == 0
    finally:
        watch.close()


def test_foreign_keys(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY)")
        conn.execute(
            "CREATE TABLE devices (id bigint PRIMARY KEY, owner bigint REFERENCES users (id))"
        )
        conn.execute("CREATE TABLE homes (owner bigint, no int, PRIMARY KEY (owner, no))")
        conn.execute(
            "CREATE TABLE readings (owner bigint, no int, by_user bigint REFERENCES users, "
            "FOREIGN KEY (owner, no) REFERENCES homes, FOREIGN KEY (by_user, no) REFERENCES homes)"
        )
    with PostgresSource(pg_url) as src:
        assert src.foreign_keys() == {
            "devices": {"owner": ("users", "id")},
            # composite keys column by column; the key of fewest columns first
            "readings": {
                "owner": ("homes", "owner"),
                "no": ("homes", "no"),
                "by_user": ("users", "id"),
            },
        }


def test_foreign_keys_to_a_partitioned_table_or_another_schema(pg_url: str) -> None:
    """A key that references a partitioned table names that table, not one of the
    partitions PostgreSQL repeats it for; a key into another schema is not taken for one
    into the schema's table of the same name."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA auth")
        conn.execute("CREATE TABLE auth.users (id bigint PRIMARY KEY)")
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY)")
        conn.execute(
            "CREATE TABLE orders (id bigint, day date, PRIMARY KEY (id, day)) "
            "PARTITION BY RANGE (day)"
        )
        conn.execute(
            "CREATE TABLE orders_old PARTITION OF orders FOR VALUES FROM (MINVALUE) TO "
            "('2025-01-01')"
        )
        conn.execute(
            "CREATE TABLE orders_new PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO "
            "(MAXVALUE)"
        )
        conn.execute(  # named to sort after the constraints made for the partitions
            "CREATE TABLE lines (id bigint PRIMARY KEY, order_id bigint, order_day date, "
            "account bigint REFERENCES auth.users (id), CONSTRAINT zz_order "
            "FOREIGN KEY (order_id, order_day) REFERENCES orders (id, day))"
        )
    with PostgresSource(pg_url) as src:
        assert src.foreign_keys() == {
            "lines": {"order_id": ("orders", "id"), "order_day": ("orders", "day")}
        }


def test_unreachable_server_names_url_without_password() -> None:
    url = f"postgresql://admin:hunter2@127.0.0.1:{free_port()}/prod"
    with pytest.raises(SourceError) as err:
        open_source(url)
    text = str(err.value)
    assert "hunter2" not in text
    assert "postgresql://admin@127.0.0.1" in text
    assert "check that the server runs" in text


def test_unknown_database(pg_admin_url: str) -> None:
    url = pg_admin_url.rsplit("/", 1)[0].replace(
        "postgresql://postgres@", "postgresql://postgres:s3cret@"
    )
    with pytest.raises(SourceError, match="does not exist") as err:
        open_source(f"{url}/no_such_database_here")
    assert "s3cret" not in str(err.value)


def test_display_url_has_no_password(postgres_url: str) -> None:
    url = postgres_url.replace("postgresql://postgres@", "postgres://postgres:pa55word@")
    with open_source(url) as src:  # type: ignore[attr-defined]
        assert "pa55word" not in src.display_url
        assert src.display_url.startswith("postgres://postgres@")
        assert src.max_cursor("events", ["id"]) == 5_000


def test_matching_without_a_unicode_lower(postgres_url: str) -> None:
    with PostgresSource(postgres_url) as src:
        folded = ["élodie@example.com", "bob@x.com", "kelvin@x.com", "long" * 3000 + "@x.com"]
        server = src.matching("people", "email", folded)
        src._collation = ""  # a C-locale server without ICU: Arrow folds instead
        assert src.matching("people", "email", folded) == server == sorted(folded)


def test_infinite_dates_and_timestamps_read_as_duckdbs_infinities(pg_url: str) -> None:
    """The driver wraps PostgreSQL's ``infinity`` and ``-infinity`` round to some date BC;
    the source reads them as DuckDB's infinities (the type's greatest value, negated for
    ``-infinity``), and a cursor's watermark is the greatest real instant."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, at timestamptz, naive timestamp, d date)")
        conn.execute(
            "INSERT INTO t VALUES (1, 'infinity', 'infinity', 'infinity'), "
            "(2, '-infinity', '-infinity', '-infinity'), "
            "(3, '2024-01-02 03:04:05+00', '2024-01-02 03:04:05', '2024-01-02'), "
            "(4, '4713-01-01 00:00:00+00 BC', '4713-01-01 00:00:00 BC', '4713-01-01 BC'), "
            "(5, NULL, NULL, NULL)"
        )
    with PostgresSource(pg_url) as src:
        read = pa.Table.from_batches(list(src.read("t", ["id", "at", "naive", "d"])))
        read = read.sort_by("id")
        longest, widest = 2**63 - 1, 2**31 - 1
        for name, storage, greatest in (
            ("at", pa.int64(), longest),
            ("naive", pa.int64(), longest),
            ("d", pa.int32(), widest),
        ):
            raw = read.column(name).combine_chunks().view(storage).to_pylist()
            assert raw[:2] == [greatest, -greatest], name
            assert raw[4] is None and raw[3] is not None and raw[3] < 0
        assert read.column("at")[2].as_py() == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert src.max_cursor("t", ["at"]) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert src.max_cursor("t", ["d"]) == datetime(2024, 1, 2).date()
        sampled = src.sample("t", ["d"], 10).column("d").combine_chunks().view(pa.int32())
        assert sorted(v for v in sampled.to_pylist() if v is not None)[-1] == widest
    con = duckdb.connect()
    con.register("read", read)
    shown = con.execute('SELECT "at"::VARCHAR, d::VARCHAR FROM "read" ORDER BY id').fetchall()
    assert shown[:2] == [("infinity", "infinity"), ("-infinity", "-infinity")]


def test_a_value_the_mirror_type_cannot_hold_names_its_column(pg_url: str) -> None:
    """A bounded numeric may hold NaN, which no DECIMAL can: the read stops, naming the
    table and column, so the user knows what to clean or drop."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE prices (id int PRIMARY KEY, ok numeric(8, 2), bad numeric(8,2))")
        conn.execute("INSERT INTO prices VALUES (1, 1.25, 2.5), (2, 3.75, 'NaN')")
    with PostgresSource(pg_url) as src, pytest.raises(SourceError) as caught:
        list(src.read("prices", ["id", "ok", "bad"]))
    assert "table 'prices', column 'bad'" in caught.value.message
    assert "drop the column" in (caught.value.hint or "")


def test_a_numeric_beyond_double_is_refused_without_quoting_it(pg_url: str) -> None:
    """A numeric without a precision is read as double; PostgreSQL refuses a value beyond
    double's range with a message that spells it out. The error withholds that message
    (it would reach the audit log) and names the columns that may hold the value."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, ok numeric(8, 2), huge numeric)")
        conn.execute("INSERT INTO t VALUES (1, 1.5, 2), (2, 2.5, 31415926e400)")
    with PostgresSource(pg_url) as src:
        with pytest.raises(SourceError) as read:
            list(src.read("t", ["id", "ok", "huge"]))
        with pytest.raises(SourceError) as sampled:
            src.sample("t", ["id", "huge"], 10)
    for caught in (read, sampled):
        assert "31415926" not in str(caught.value)
        assert "may quote the value, is withheld" in caught.value.message
    assert "column(s) 'huge':" in (read.value.hint or "")


def test_a_table_the_role_may_not_read_says_how_to_grant(pg_url: str, pg_reader_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE private (id int PRIMARY KEY, at timestamptz)")
        role = psycopg.conninfo.conninfo_to_dict(pg_reader_url)["user"]
        conn.execute(f'REVOKE SELECT ON private FROM "{role}"')
    with PostgresSource(pg_reader_url) as src, pytest.raises(SourceError) as caught:
        src.max_cursors({"private": ["at"]})
    assert isinstance(caught.value, AccessDenied)
    assert "permission denied for table private" in caught.value.message
    assert "SELECT on that table" in (caught.value.hint or "")
    assert str(psycopg.conninfo.conninfo_to_dict(pg_reader_url)["password"]) not in str(
        caught.value
    )


def test_query_strings_are_spelled_as_libpq_reads_them() -> None:
    assert (
        with_query("postgresql:///db?x=1", {"host": "/run/pg", "options": "-c a=b c+d"})
        == "postgresql:///db?host=/run/pg&options=-c%20a%3Db%20c%2Bd"
    )
    assert (
        redact_url("postgresql://u:pw@h/db?password=x&options=-c%20a%3Db")
        == "postgresql://u@h/db?options=-c%20a%3Db"
    )


def test_a_unix_socket_url_with_session_options(pg_url: str) -> None:
    """``postgresql:///db?host=/dir``: no host before the path, the socket's directory in
    the query (as a database on the same machine is often reached); ``options`` with
    spaces, spelled ``%20``."""
    with psycopg.connect(pg_url) as con:
        row = con.execute("SHOW unix_socket_directories").fetchone()
    directories = [d.strip() for d in (row[0] if row else "").split(",") if d.strip()]
    require(bool(directories), "the PostgreSQL server listens on no Unix socket")
    parts = psycopg.conninfo.conninfo_to_dict(pg_url)
    url = (
        f"postgresql:///{parts['dbname']}?host={directories[0]}&user={parts.get('user', '')}"
        "&options=-c%20application_name%3Dsm_reader%20-c%20work_mem%3D7MB"
    )
    with PostgresSource(url) as src:
        found = src._query(
            "SELECT current_setting('application_name') AS app, "
            "current_setting('work_mem') AS mem, inet_server_addr() IS NULL AS socket"
        ).to_pylist()
    assert found == [{"app": "sm_reader", "mem": "7MB", "socket": True}]

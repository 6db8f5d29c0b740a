"""Every source over the same data: canonical types, identical tables, cursors, bounds."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pyarrow as pa
import pytest

import safemirror.sources.pg_sessions as pg_sessions
from safemirror.errors import SourceError
from safemirror.sources.base import Source
from safemirror.sources.registry import open_source
from tests.sources.dataset import COLUMNS, ROWS, WEIRD_COLUMN, WEIRD_TABLE, event_rows

CANONICAL = pa.schema(
    [
        ("id", pa.int64()),
        ("device_id", pa.int32()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("updated_at", pa.timestamp("us", tz="UTC")),
        ("deleted_at", pa.timestamp("us", tz="UTC")),
        ("outcome", pa.string()),
        ("score", pa.float64()),
        ("ok", pa.bool_()),
        ("day", pa.date32()),
        ("payload", pa.binary()),
        ("amount", pa.decimal128(10, 2)),
    ]
)
pytestmark = pytest.mark.postgres


def select(schema: pa.Schema, names: list[str]) -> pa.Schema:
    return pa.schema([schema.field(n) for n in names])


def read_all(source: Source, columns: list[str] = COLUMNS, **kw: object) -> pa.Table:
    batches = list(source.read("events", columns, **kw))  # type: ignore[arg-type]
    table = pa.Table.from_batches(
        batches, schema=select(CANONICAL, columns) if not batches else None
    )
    return table.sort_by("id") if "id" in columns else table


def test_tables_report_logical_types_and_keys(source: Source) -> None:
    info = source.tables()["events"]
    assert [(c.name, c.type) for c in info.columns] == [
        ("id", "bigint"),
        ("device_id", "integer"),
        ("ts", "timestamp"),
        ("updated_at", "timestamp"),
        ("deleted_at", "timestamp"),
        ("outcome", "text"),
        ("score", "double"),
        ("ok", "boolean"),
        ("day", "date"),
        ("payload", "blob"),
        ("amount", "numeric"),
    ]
    assert info.primary_key == ("id",)
    assert not info.column("device_id").nullable and info.column("outcome").nullable
    assert set(source.tables()) == {"events", WEIRD_TABLE, "empty", "people"}


def test_read_yields_canonical_types_and_every_value(source: Source) -> None:
    table = read_all(source)
    assert table.schema == CANONICAL
    assert table.num_rows == ROWS
    expected = event_rows()
    assert table.slice(0, 3).to_pylist() == [
        dict(zip(COLUMNS, r, strict=True)) for r in expected[:3]
    ]
    assert table.column("deleted_at").to_pylist() == [r[4] for r in expected]
    assert table.column("ts").to_pylist() == [r[2] for r in expected]


def test_both_sources_give_identical_arrow_tables(both: tuple[Source, Source]) -> None:
    lite, pg = both
    assert read_all(lite).equals(read_all(pg))
    assert lite.tables()["events"].columns == tuple(
        c.__class__(c.name, c.type, c.nullable, lite.tables()["events"].column(c.name).source_type)
        for c in pg.tables()["events"].columns
    )


def test_columns_come_in_the_order_asked(source: Source) -> None:
    batch = next(source.read("events", ["outcome", "id"]))
    assert batch.schema.names == ["outcome", "id"]


def test_streaming_is_bounded_by_batch_rows(source: Source) -> None:
    sizes = [b.num_rows for b in source.read("events", COLUMNS, batch_rows=400)]
    assert sum(sizes) == ROWS
    assert len(sizes) >= ROWS // 400 and max(sizes) <= 400


def test_an_abandoned_stream_frees_the_source(source: Source) -> None:
    stream = source.read("events", ["id"], batch_rows=100)
    next(stream)
    stream.close()  # type: ignore[attr-defined]
    assert source.max_cursor("events", ["id"]) == ROWS


def test_concurrent_streams_read_alike(source: Source) -> None:
    expected = read_all(source)
    with ThreadPoolExecutor(3) as pool:
        tables = list(pool.map(lambda _: read_all(source), range(3)))
    assert all(t.equals(expected) for t in tables)


def test_stream_sessions_share_the_driver_database_and_all_close(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def sessions() -> int:
        with psycopg.connect(postgres_url) as con:
            row = con.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"  # no autovacuum
            ).fetchone()
            assert row is not None
            return int(row[0])

    opened: list[str] = []
    connect = pg_sessions.pgdbapi.connect

    def counting(uri: str, **kwargs: object) -> object:
        opened.append(uri)
        return connect(uri, **kwargs)

    monkeypatch.setattr(pg_sessions.pgdbapi, "connect", counting)
    before = sessions()
    source = open_source(postgres_url)
    with ThreadPoolExecutor(3) as pool:  # three streams at once: three more sessions
        list(pool.map(lambda _: read_all(source), range(3)))
    assert len(opened) == 1  # the driver loaded the type catalog once
    assert sessions() > before
    source.close()
    deadline = time.monotonic() + 5
    while sessions() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sessions() == before


def _expected_since(since: datetime) -> list[int]:
    return [
        r[0]
        for r in event_rows()
        if (r[3] is not None and r[3] >= since) or (r[4] is not None and r[4] >= since)
    ]


@pytest.mark.parametrize(
    "since",
    [
        datetime(2024, 1, 20, 7, 31, 0, 11_123, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    ],
)
def test_since_uses_any_cursor_column_and_ignores_nulls(source: Source, since: datetime) -> None:
    got = read_all(source, ["id", "outcome"], since=since, cursor=["updated_at", "deleted_at"])
    assert got.column("id").to_pylist() == _expected_since(since)
    assert got.schema.names == ["id", "outcome"]


def test_since_is_exact_to_the_microsecond(source: Source) -> None:
    row = event_rows()[1233]
    exact = read_all(source, ["id"], since=row[3], cursor=["updated_at"])
    later = read_all(
        source, ["id"], since=row[3] + timedelta(microseconds=1), cursor=["updated_at"]
    )
    assert row[0] in exact.column("id").to_pylist()
    assert row[0] not in later.column("id").to_pylist()


def test_since_accepts_iso_text_and_naive_utc(source: Source) -> None:
    since = datetime(2024, 2, 1, tzinfo=UTC)
    expected = _expected_since(since)
    for value in ("2024-02-01T00:00:00+00:00", "2024-02-01 00:00:00", since.replace(tzinfo=None)):
        got = read_all(source, ["id"], since=value, cursor=["updated_at", "deleted_at"])
        assert got.column("id").to_pylist() == expected


def test_integer_cursor(source: Source) -> None:
    got = read_all(source, ["id"], since=ROWS - 9, cursor=["id"])
    assert got.column("id").to_pylist() == list(range(ROWS - 9, ROWS + 1))


def test_max_cursor(source: Source) -> None:
    rows = event_rows()
    both = max(v for r in rows for v in (r[3], r[4]) if v is not None)
    assert source.max_cursor("events", ["updated_at", "deleted_at"]) == both
    assert source.max_cursor("events", ["id"]) == ROWS
    assert source.max_cursor("empty", ["ts"]) is None
    assert isinstance(both, datetime) and both.tzinfo is not None


def test_value_counts(source: Source) -> None:
    assert sorted(source.value_counts("events", "outcome", 2)) == ["failed", "ok", "timeout"]
    assert source.value_counts("events", "outcome", ROWS) == []
    assert source.value_counts("events", "device_id", 17) == [
        d for d in range(300) if sum(1 for i in range(1, ROWS + 1) if i % 300 == d) >= 17
    ]


def test_sample_is_a_deterministic_spread(source: Source) -> None:
    first = source.sample("events", ["id", "ts", "outcome"], 200)
    again = source.sample("events", ["id", "ts", "outcome"], 200)
    assert 0 < first.num_rows <= 200
    assert first.equals(again)
    assert max(first.column("id").to_pylist()) > ROWS // 2
    assert first.schema == select(CANONICAL, ["id", "ts", "outcome"])
    assert source.sample("empty", ["id"], 10).num_rows == 0


def test_identifiers_are_quoted(source: Source) -> None:
    rows = pa.Table.from_batches(list(source.read(WEIRD_TABLE, ["id", "select", WEIRD_COLUMN])))
    assert rows.sort_by("id").to_pylist() == [
        {"id": 1, "select": "a", WEIRD_COLUMN: 10},
        {"id": 2, "select": "b", WEIRD_COLUMN: 20},
    ]


@pytest.mark.parametrize(
    "table",
    ["missing", 'events"; DROP TABLE events; --', "events WHERE 1=1", "public.events", "EVENTS"],
)
def test_unknown_or_hostile_tables_are_refused(source: Source, table: str) -> None:
    with pytest.raises(SourceError, match="does not exist") as err:
        list(source.read(table, ["id"]))
    assert repr(table) in str(err.value)
    assert source.max_cursor("events", ["id"]) == ROWS  # still there


@pytest.mark.parametrize("column", ["nope", "id, email", 'id" FROM events; --', "*", "ID"])
def test_unknown_or_hostile_columns_are_refused(source: Source, column: str) -> None:
    for call in (
        lambda: list(source.read("events", ["id", column])),
        lambda: source.value_counts("events", column, 2),
        lambda: source.max_cursor("events", [column]),
        lambda: source.sample("events", [column], 5),
        lambda: list(source.read("events", ["id"], since=1, cursor=[column])),
    ):
        with pytest.raises(SourceError, match="does not exist in table 'events'"):
            call()


def test_bad_cursor_values_are_refused(source: Source) -> None:
    with pytest.raises(SourceError, match="does not fit"):
        list(source.read("events", ["id"], since="yesterday", cursor=["ts"]))
    with pytest.raises(SourceError, match="mix types"):
        list(source.read("events", ["id"], since=1, cursor=["id", "ts"]))
    with pytest.raises(SourceError, match="needs cursor"):
        list(source.read("events", ["id"], since=1))


def test_matching_folds_case_in_the_source(source: Source) -> None:
    folded = ["élodie@example.com", "bob@x.com", "dave@x.com", "BOB@X.COM"]
    assert source.matching("people", "email", folded) == ["bob@x.com", "élodie@example.com"]
    assert source.matching("people", "email", ["kelvin@x.com"]) == ["kelvin@x.com"]
    long = "long" * 3000 + "@x.com"
    assert source.matching("people", "email", [long]) == [long]
    assert source.matching("people", "email", ["long" * 2999 + "@x.com"]) == []
    assert source.matching("people", "email", []) == []
    assert source.matching("events", "outcome", ["ok", "nope"]) == ["ok"]
    assert source.matching(WEIRD_TABLE, "select", ["a", "'; --"]) == ["a"]
    with pytest.raises(SourceError, match="does not exist"):
        source.matching("people", "email; --", ["x"])

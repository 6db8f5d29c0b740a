"""A table's ``lookback``: each incremental read starts that long before the watermark, so
rows that arrive stamped in the past (late uploads under a cursor of event times) reach
the mirror; the rows read again replace themselves, entry times and all."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError

from safemirror.config import ProjectConfig
from safemirror.policy.check import check_policy
from safemirror.policy.model import Policy, TablePolicy
from safemirror.sources.base import ColumnInfo, TableInfo
from safemirror.sync.plan import TablePlan, table_policy_hash
from safemirror.sync.run import run_sync
from tests.conftest import sqlite_db
from tests.sync.tiny import rows

MakeProject = Callable[..., ProjectConfig]


def _weighins(lookback: str | None) -> dict[str, Any]:
    table: dict[str, Any] = {
        "primary_key": "id",
        "cursor": "measured_at",
        "columns": {"id": "keep", "measured_at": "keep", "kg": "keep"},
    }
    if lookback:
        table["lookback"] = lookback
    return {"version": 1, "tables": {"weighins": table}}


def _stamp(day: int, hour: int = 8) -> str:
    return f"2026-11-{day:02d} {hour:02d}:00:00"


@pytest.mark.parametrize(("lookback", "late_taken"), [(None, False), ("2d", True)])
def test_a_late_row_within_the_lookback_reaches_the_mirror(
    tmp_path: Path, make_project: MakeProject, lookback: str | None, late_taken: bool
) -> None:
    url = sqlite_db(
        tmp_path / "scale.db",
        "CREATE TABLE weighins (id INTEGER PRIMARY KEY, measured_at TIMESTAMP, kg REAL)",
        *(f"INSERT INTO weighins VALUES ({d}, '{_stamp(d)}', 70.5)" for d in range(1, 11)),
    )
    project = make_project(url, _weighins(lookback))
    run_sync(project)  # the watermark: the 10th, 08:00
    entered = rows(project, "SELECT id, _sm_entered_at FROM weighins ORDER BY id")
    with sqlite3.connect(tmp_path / "scale.db") as con:  # uploaded late, stamped as measured
        con.execute(f"INSERT INTO weighins VALUES (100, '{_stamp(9)}', 71.0)")  # a day late
        con.execute(f"INSERT INTO weighins VALUES (101, '{_stamp(5)}', 72.0)")  # five days
    result = run_sync(project)
    assert result.manifest.mode == "incremental"
    ids = {i for (i,) in rows(project, "SELECT id FROM weighins")}
    assert (100 in ids) is late_taken
    assert 101 not in ids  # beyond any lookback: only 'sync --full' takes it
    assert result.tables["weighins"].rows_written == int(late_taken)  # re-read: not written
    # re-read rows keep the time they entered the mirror
    again = rows(project, "SELECT id, _sm_entered_at FROM weighins WHERE id <= 10 ORDER BY id")
    assert again == entered
    before = rows(project, "SELECT * FROM weighins ORDER BY id")
    run_sync(project)
    assert rows(project, "SELECT * FROM weighins ORDER BY id") == before  # twice: no change


@pytest.mark.postgres
def test_a_late_row_within_the_lookback_reaches_the_mirror_from_postgresql(
    pg_url: str, make_project: MakeProject
) -> None:
    """PostgreSQL leaves out, at the watermark, the row versions read already; a read
    that starts before it takes every row from there on."""
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE weighins (id bigint PRIMARY KEY, measured_at timestamptz, kg real)"
        )
        for day in range(1, 11):
            con.execute("INSERT INTO weighins VALUES (%s, %s, 70.5)", (day, _stamp(day) + "Z"))
    project = make_project(pg_url, _weighins("36h"))
    run_sync(project)
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("INSERT INTO weighins VALUES (100, %s, 71.0)", (_stamp(9, 1) + "Z",))
        con.execute("INSERT INTO weighins VALUES (101, %s, 71.0)", (_stamp(8, 7) + "Z",))
        con.execute("UPDATE weighins SET kg = 80 WHERE id = 10")  # at the watermark
    run_sync(project)
    assert rows(project, "SELECT id, kg FROM weighins WHERE id >= 10 ORDER BY id") == [
        (10, 80.0),
        (100, 71.0),  # 31 h before the watermark
    ]  # 101 lies 49 h before it


def _plan(since: Any, lookback: str | None) -> TablePlan:
    policy = TablePolicy.model_validate(
        {
            "primary_key": "id",
            "cursor": "at",
            "columns": {"id": "keep", "at": "keep"},
            **({"lookback": lookback} if lookback else {}),
        }
    )
    return TablePlan("t", policy, None, ["id", "at"], True, since, "h", (7,))  # type: ignore[arg-type]


def test_where_a_read_starts() -> None:
    at = datetime(2026, 11, 10, 8, tzinfo=UTC)
    assert _plan(at, None).read_since == at
    assert _plan(at, None).read_skips == (7,)  # versions read at the watermark: left out
    assert _plan(at, "90m").read_since == at - timedelta(minutes=90)
    assert _plan(at, "90m").read_skips == ()  # read again from before the watermark
    assert _plan(at, "1w").read_since == at - timedelta(weeks=1)
    assert _plan(date(2026, 11, 10), "36h").read_since == date(2026, 11, 8)  # whole days
    assert _plan(date(2026, 11, 10), "1d").read_since == date(2026, 11, 9)
    assert _plan(None, "1d").read_since is None  # a full read
    first = datetime.min.replace(tzinfo=UTC)  # PostgreSQL's -infinity, say
    assert _plan(first, "1d").read_since == first
    assert _plan(date.min, "1d").read_since == date.min


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"lookback": "2 days"}, "not a duration"),
        ({"lookback": "0d"}, "not a duration"),
        ({"lookback": "-1h"}, "not a duration"),
        ({"lookback": "1.5h"}, "not a duration"),
        ({"lookback": 2}, "valid string"),
        ({"cursor": []}, "this table has none"),
    ],
)
def test_a_lookback_that_cannot_apply_is_refused(table: dict[str, Any], message: str) -> None:
    spec = {
        "primary_key": "id",
        "cursor": "at",
        "lookback": "1d",
        "columns": {"id": "keep", "at": "keep"},
        **table,
    }
    with pytest.raises(ValidationError, match=message):
        TablePolicy.model_validate(spec)


def test_a_skipped_table_takes_no_lookback() -> None:
    with pytest.raises(ValidationError, match="no other settings"):
        TablePolicy.model_validate({"skip": True, "lookback": "1d"})


def test_a_lookback_on_a_cursor_of_numbers_is_a_schema_problem() -> None:
    policy = Policy.model_validate({"tables": {"t": _plan(None, "1d").policy.model_dump()}})
    live = {
        "t": TableInfo(
            "t",
            (ColumnInfo("id", "bigint", False, "int8"), ColumnInfo("at", "bigint", True, "int8")),
            ("id",),
        )
    }
    (problem,) = check_policy(policy, live)
    assert (problem.column, problem.kind) == ("at", "lookback needs a time cursor")
    assert "bigint (int8)" in problem.fix


def test_a_lookback_changes_the_policy_but_not_what_a_table_holds() -> None:
    """Setting or changing a lookback reads more again; it rebuilds nothing. A policy
    without one hashes as it did before lookbacks existed."""
    without, with_one = _plan(None, None).policy, _plan(None, "2d").policy
    assert table_policy_hash(without) == table_policy_hash(with_one)
    plain = Policy.model_validate({"tables": {"t": without.model_dump(exclude={"lookback"})}})
    longer = Policy.model_validate({"tables": {"t": with_one.model_dump()}})
    assert plain.digest() != longer.digest()
    earlier = plain.model_dump(mode="json")
    del earlier["tables"]["t"]["lookback"]  # the model before lookbacks
    text = json.dumps(earlier, sort_keys=True, separators=(",", ":"))
    assert plain.digest() == hashlib.sha256(text.encode()).hexdigest()

"""Cursors at the edges of the dates a watermark can hold (year 0, years past 9999)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode
from safemirror.sync.run import run_sync
from tests.conftest import sqlite_db
from tests.sync.tiny import kept_table

MakeProject = Callable[..., ProjectConfig]

POLICY: dict[str, Any] = {
    "version": 1,
    "tables": {"events": kept_table(id="bigint", updated_at="timestamp", day="date")},
}


def _mirrored(config: ProjectConfig) -> int:
    con = duckdb.connect(str(config.mirror), read_only=True)
    try:
        (count,) = con.execute("SELECT count(*) FROM events").fetchone()  # type: ignore[misc]
    finally:
        con.close()
    return int(count)


@pytest.mark.parametrize("cursor", ["updated_at", "day"])
def test_a_sqlite_table_stamped_only_in_year_zero_syncs_and_misses_no_row(
    tmp_path: Path, make_project: MakeProject, cursor: str
) -> None:
    """'0000-01-01' (a 'zero date') is a day SQLite and Arrow read but Python's dates do
    not hold: the watermark starts the next run from the beginning, which misses no row."""
    db = tmp_path / "prod.db"
    url = sqlite_db(
        db,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, updated_at TIMESTAMP, day DATE)",
        "INSERT INTO events VALUES (1, '0000-01-01 00:00:00', '0000-01-01')",
        "INSERT INTO events VALUES (2, '0000-03-01 12:00:00', '0000-03-01')",
    )
    policy = {"version": 1, "tables": {"events": {**POLICY["tables"]["events"], "cursor": cursor}}}
    project = make_project(url, policy)
    assert run_sync(project).tables["events"].rows_in_mirror == 2
    sqlite_db(db, "INSERT INTO events VALUES (3, '0000-01-01 00:00:00', '0000-01-01')")
    run_sync(project)
    assert _mirrored(project) == 3


def test_a_sqlite_stamp_past_9999_holds_the_watermark_at_the_present(
    tmp_path: Path, make_project: MakeProject
) -> None:
    db = tmp_path / "prod.db"
    url = sqlite_db(
        db,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, updated_at TIMESTAMP, day DATE)",
        "INSERT INTO events VALUES (1, '9999-12-31 23:30:00-01:00', '2024-01-01')",
    )
    project = make_project(url, POLICY)
    run_sync(project)
    sqlite_db(db, "INSERT INTO events VALUES (2, '9000-01-01 00:00:00', '2024-01-01')")
    run_sync(project)
    assert _mirrored(project) == 2


@pytest.mark.postgres
@pytest.mark.parametrize("cursor", ["updated_at", "day"])
def test_postgres_stamps_before_year_1_or_after_9999_sync(
    pg_url: str, make_project: MakeProject, cursor: str
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("CREATE TABLE events (id bigint PRIMARY KEY, updated_at timestamptz, day date)")
        con.execute("INSERT INTO events VALUES (1, '0001-01-01 00:00+00 BC', '12000-01-01')")
    policy = {"version": 1, "tables": {"events": {**POLICY["tables"]["events"], "cursor": cursor}}}
    project = make_project(pg_url, policy)
    assert run_sync(project).tables["events"].rows_in_mirror == 1
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("INSERT INTO events VALUES (2, '0001-01-01 00:00+00 BC', '9000-01-01')")
    run_sync(project)
    assert _mirrored(project) == 2


@pytest.mark.parametrize(
    "stamp",
    [
        "'-0001-06-01 00:00:00'",  # a negative year
        "'10000-01-01 00:00:00'",  # year 10000, as text
        "0.0",  # Julian day 0 (4714 BC)
        "1e300",  # a Julian day no calendar reaches
        "9223372036854775807",  # Unix seconds no calendar reaches
        "-9223372036854775807",
    ],
)
def test_stamps_no_reading_fits_are_refused_naming_table_and_column(
    tmp_path: Path, make_project: MakeProject, capsys: pytest.CaptureFixture[str], stamp: str
) -> None:
    """Refused with the source's exit code, whether the stamp is the greatest (the
    watermark) or an ordinary row's: never a traceback, never the value."""
    url = sqlite_db(
        tmp_path / "prod.db",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, updated_at TIMESTAMP, day DATE)",
        f"INSERT INTO events VALUES (1, {stamp}, '2024-01-01')",
    )
    project = make_project(url, POLICY)
    capsys.readouterr()
    assert (
        run(["sync", "--quiet", "--config", str(project.base_dir / "safemirror.yaml")])
        == ExitCode.SOURCE
    )
    said = capsys.readouterr().err
    assert "table 'events', column 'updated_at'" in said
    assert "Traceback" not in said and stamp.strip("'") not in said

"""``safemirror demo`` end to end: generate, project files, sync, verify, go on."""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb

from safemirror.cli import run
from safemirror.errors import ExitCode
from tests.conftest import sqlite_db


def test_demo_leaves_a_working_project(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    assert run(["demo", "--dir", str(directory), "--scale", "0.001", "--no-serve"]) == ExitCode.OK
    for name in (
        "production.db",
        "safemirror.key",
        "policy.yaml",
        "safemirror.yaml",
        "mirror.duckdb",
        "safemirror-audit.jsonl",
    ):
        assert (directory / name).exists(), name
    assert stat.S_IMODE((directory / "safemirror.key").stat().st_mode) == 0o600
    con = duckdb.connect(str(directory / "mirror.duckdb"), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        columns = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'users'"
            ).fetchall()
        }
    finally:
        con.close()
    assert {"users", "devices", "connection_events", "_sm_runs"} <= tables
    assert not {"email", "password_hash", "display_name"} & columns
    config = str(directory / "safemirror.yaml")
    assert run(["sync", "--quiet", "--config", config]) == ExitCode.OK
    assert run(["verify", "--config", config]) == ExitCode.OK
    assert run(["audit", "verify", "--log", str(directory / "safemirror-audit.jsonl")]) == 0
    key = (directory / "safemirror.key").read_text().strip()
    assert key not in (directory / "safemirror-audit.jsonl").read_text()


def test_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    """A project of the user's own: the demo would replace its production.db and delete its
    mirror. Everything there stays as it was."""
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / "safemirror.yaml").write_text(
        "source: sqlite:///production.db\nmirror: mirror.duckdb\nkey: file:my.key\n"
        "policy: policy.yaml\n"
    )
    sqlite_db(directory / "production.db", "CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    (directory / "mirror.duckdb").write_bytes(b"my mirror")
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    argv = ["demo", "--dir", str(directory), "--scale", "0.001", "--no-serve"]
    assert run(argv) == ExitCode.CONFLICT
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_demo_refuses_a_directory_of_other_files_and_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    argv = ["--scale", "0.001", "--no-serve"]
    assert run(["demo", "--dir", str(tmp_path), *argv]) == ExitCode.CONFLICT
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert run(["demo", "--dir", str(tmp_path / "notes.txt"), *argv]) == ExitCode.CONFLICT
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_demo_runs_again_in_its_own_directory_and_in_an_empty_one(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    directory.mkdir()  # empty: the demo's
    argv = ["demo", "--dir", str(directory), "--scale", "0.001", "--no-serve"]
    assert run(argv) == ExitCode.OK
    key = (directory / "safemirror.key").read_bytes()
    with (directory / "safemirror.yaml").open("a") as config:
        config.write("server: {port: 9100}\n")  # a setting added since
    assert run(argv) == ExitCode.OK  # an earlier demo's: regenerated, same key
    assert (directory / "safemirror.key").read_bytes() == key


def test_a_bad_scale_writes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    assert run(["demo", "--dir", str(directory), "--scale", "0", "--no-serve"]) == ExitCode.USAGE
    assert not directory.exists()

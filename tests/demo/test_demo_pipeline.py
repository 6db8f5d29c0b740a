"""``safemirror demo`` end to end: generate, project files, sync, verify, go on."""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb

from safemirror.cli import run
from safemirror.errors import ExitCode


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

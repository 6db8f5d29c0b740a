"""The commands that read a SQLite source never create or change its file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode

MakeProject = Callable[..., ProjectConfig]


@pytest.mark.parametrize("present", [True, False], ids=["empty", "missing"])
def test_an_empty_or_missing_file_stops_every_command_and_stays_as_it_was(
    tmp_path: Path, make_project: MakeProject, capsys: pytest.CaptureFixture[str], present: bool
) -> None:
    path = tmp_path / "production.db"
    if present:
        path.touch()
    before = os.stat(path).st_mtime_ns if present else None
    project = make_project(f"sqlite:///{path}")
    config = str(project.base_dir / "safemirror.yaml")
    for command in (["policy", "check"], ["sync", "--quiet"], ["verify"]):
        code = run([*command, "--config", config])
        assert code in (ExitCode.SOURCE, ExitCode.USAGE), command
    assert run(["policy", "suggest", "--source", f"sqlite:///{path}"]) == ExitCode.SOURCE
    said = capsys.readouterr().err
    assert "vanished" not in said and "Traceback" not in said
    assert ("empty file, not a SQLite database" if present else "no SQLite database") in said
    if present:
        assert path.stat().st_size == 0 and os.stat(path).st_mtime_ns == before
    else:
        assert not path.exists()
    assert not list(tmp_path.glob("production.db?*"))  # no journal, WAL or shared memory

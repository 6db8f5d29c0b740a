"""What the commands print shows names, paths and messages as they are: a bracket in a
table name or an error is neither read as terminal styling nor a crash after the work."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from safemirror import consoles
from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode
from tests.conftest import sqlite_db

MakeProject = Callable[..., ProjectConfig]
ODD = "[/x] [bold]t"  # a closing tag Rich would refuse, and one it would apply


def test_a_bracketed_table_name_is_printed_as_it_is(
    tmp_path: Path,
    make_project: MakeProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quoted = ODD.replace('"', '""')
    url = sqlite_db(
        tmp_path / "prod.db",
        f'CREATE TABLE "{quoted}" (id INTEGER PRIMARY KEY, kind TEXT)',
        f"INSERT INTO \"{quoted}\" VALUES (1, 'a'), (2, 'b')",
    )
    policy = {
        "version": 1,
        "tables": {ODD: {"primary_key": "id", "columns": {"id": "keep", "kind": "keep"}}},
    }
    project = make_project(url, policy)
    config = str(project.base_dir / "safemirror.yaml")
    assert run(["sync", "--quiet", "--config", config]) == ExitCode.OK
    assert ODD in capsys.readouterr().out
    screen = io.StringIO()  # the progress display draws only on a terminal: pretend one
    monkeypatch.setattr(consoles, "err_console", Console(file=screen, force_terminal=True))
    assert run(["sync", "--full", "--config", config]) == ExitCode.OK
    assert ODD in screen.getvalue()


def test_an_error_keeps_its_brackets(
    tmp_path: Path, make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_db(tmp_path / "prod.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    valid = {"version": 1, "tables": {"t": {"primary_key": "id", "columns": {"id": "keep"}}}}
    project = make_project(url, valid)
    policy = project.base_dir / "bad-policy.yaml"
    policy.write_text(
        "version: 1\ntables:\n  t:\n    primary_key: id\n"
        "    columns:\n      id: keep\n      '[bold]x[/bold][a-z]': drop\n"
    )
    config = project.base_dir / "safemirror.yaml"
    config.write_text(config.read_text().split("policy:")[0] + f"policy: {policy}\n")
    assert run(["policy", "check", "--config", str(config)]) == ExitCode.POLICY
    err = " ".join(capsys.readouterr().err.split())
    assert "'[bold]x[/bold][a-z]'" in err  # the vanished column's name, whole

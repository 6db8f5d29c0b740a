"""``safemirror sync`` shows its progress on stderr: a live display on a terminal, and
elsewhere (a log, a CI job) a line now and then, never on stdout with the result."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode
from safemirror.sync import progress
from tests.sync.tiny import TinyProduction

MakeProject = Callable[..., ProjectConfig]
LINE = re.compile(r"^sync: ([\d,]+) rows written so far in (\d+) table\(s\), \d+ s; now ", re.M)


@pytest.fixture
def config(tiny: TinyProduction, make_project: MakeProject) -> str:
    project = make_project(f"sqlite:///{tiny.path}")
    return str(project.base_dir / "safemirror.yaml")


def test_a_log_gets_a_line_now_and_then_on_stderr(
    config: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "LINE_EVERY_S", 0.0)  # every report makes a line
    assert run(["sync", "--config", config]) == ExitCode.OK
    out, err = capsys.readouterr()
    counts = [int(rows.replace(",", "")) for rows, _ in LINE.findall(err)]
    assert counts and counts == sorted(counts) and counts[-1] == 40  # 20 users, 20 devices
    assert "devices" in err and not LINE.search(out)


def test_a_short_run_or_a_quiet_one_prints_no_progress(
    config: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["sync", "--config", config]) == ExitCode.OK  # done within LINE_EVERY_S
    assert not LINE.search(capsys.readouterr().err)
    monkeypatch.setattr(progress, "LINE_EVERY_S", 0.0)
    assert run(["sync", "--full", "--quiet", "--config", config]) == ExitCode.OK
    assert not LINE.search(capsys.readouterr().err)

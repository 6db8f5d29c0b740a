"""Bad options end ``guard`` commands with a usage error (exit 2) and a clear message,
before anything is probed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from safemirror.errors import ExitCode, UsageError
from safemirror.guard.cli import guard_app
from tests.guard.guard_support import targets_file
from tests.guard.guard_tcp import TcpServer

runner = CliRunner()


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("missing-dir/report.json", "does not exist"),
        (".", "is a directory"),
    ],
)
def test_an_unwritable_report_path_is_refused_before_probing(
    tmp_path: Path, output: str, message: str
) -> None:
    server = TcpServer()
    try:
        targets = targets_file(
            tmp_path / "targets.yaml",
            [{"name": "c", "kind": "redis", "address": f"127.0.0.1:{server.port}", "timeout": 1}],
        )
        result = runner.invoke(
            guard_app,
            [
                "scan",
                "-t",
                str(targets),
                "-f",
                "json",
                "-o",
                str(tmp_path / output),
                "--audit-log",
                str(tmp_path / "a.jsonl"),
            ],
        )
    finally:
        server.stop()
    error = result.exception  # the root command line turns it into its exit code
    assert isinstance(error, UsageError) and error.exit_code == ExitCode.USAGE, error
    assert message in str(error)
    assert server.held == []  # nothing was probed

"""``safemirror demo`` and ``safemirror demo generate`` through Typer's runner."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from safemirror.demo.cli import demo_app, register
from safemirror.demo.pipeline import run_demo
from safemirror.errors import ConflictError, ExitCode, UsageError
from tests.demo.demo_support import table_names, value

runner = CliRunner()


def test_bare_demo_builds_production_db_and_shows_it(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    result = runner.invoke(demo_app, ["--dir", str(directory), "--scale", "0.001", "--no-serve"])
    assert result.exit_code == 0, result.output
    db = directory / "production.db"
    assert db.is_file()
    for table in ("users", "devices", "connection_events", "body_metrics", "total"):
        assert table in result.output
    assert "2,400" in result.output  # users at scale 0.001
    # running it again regenerates in place
    again = runner.invoke(
        demo_app, ["--dir", str(directory), "--scale", "0.001", "--seed", "9", "--no-serve"]
    )
    assert again.exit_code == 0, again.output
    assert value(f"sqlite:///{db}", "SELECT COUNT(*) FROM users") == 2400


def test_run_demo_returns_what_it_made(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "d", 0.001, 3)
    assert result.production == tmp_path / "d" / "production.db"
    assert result.generation.rows["users"] == 2400
    assert result.generation.seed == 3


def test_generate_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    args = ["generate", "--scale", "0.001", "--seed", "4", "--target", url]
    result = runner.invoke(demo_app, args)
    assert result.exit_code == 0, result.output
    assert "Generated into" in result.output and "connection_events" in result.output
    assert len(table_names(url)) == 7
    refused = runner.invoke(demo_app, args)
    assert isinstance(refused.exception, ConflictError)
    assert refused.exception.exit_code == ExitCode.CONFLICT
    replaced = runner.invoke(demo_app, [*args, "--replace"])
    assert replaced.exit_code == 0, replaced.output


def test_generate_command_bad_scale_raises_usage_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    result = runner.invoke(demo_app, ["generate", "--scale", "-2", "--target", url])
    assert isinstance(result.exception, UsageError)
    assert result.exception.exit_code == ExitCode.USAGE


def test_register_adds_demo_to_a_root_app(tmp_path: Path) -> None:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """Root."""

    register(root)
    result = runner.invoke(root, ["demo", "generate", "--help"])
    assert result.exit_code == 0
    for option in ("--scale", "--seed", "--target", "--replace"):
        assert option in result.output

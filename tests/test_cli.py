"""The root command line: its registry of capabilities and what a run loads."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import typer

from safemirror import __version__, cli
from safemirror.errors import ExitCode


def _command_names(root: typer.Typer) -> set[str]:
    names = {str(info.name or info.callback.__name__) for info in root.registered_commands}  # type: ignore[union-attr]
    return names | {str(group.name) for group in root.registered_groups}


@pytest.mark.parametrize("module", list(cli.CAPABILITIES))
def test_each_capability_adds_exactly_the_commands_the_registry_names(module: str) -> None:
    root = typer.Typer()
    importlib.import_module(module).register(root)
    assert _command_names(root) == set(cli.CAPABILITIES[module])


def test_no_command_is_claimed_twice() -> None:
    names = [name for names in cli.CAPABILITIES.values() for name in names]
    assert len(names) == len(set(names))


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--help"]) == ExitCode.OK
    listing = capsys.readouterr().out
    for names in cli.CAPABILITIES.values():
        for name in names:
            assert f" {name} " in listing


def test_a_command_loads_only_its_own_capability() -> None:
    """``sync --help`` does not import the guard's probes or the web framework."""
    code = (
        "import sys; from safemirror.cli import run; code = run(['sync', '--help']);"
        "print(code, 'safemirror.guard.cli' in sys.modules, 'starlette' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "0 False False"


def test_an_unknown_command_is_a_usage_error_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["synk"]) == ExitCode.USAGE
    assert "synk" in capsys.readouterr().err


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--version"]) == ExitCode.OK
    assert capsys.readouterr().out.strip() == f"safemirror {__version__}"

"""``safemirror policy``: draft a policy from a live schema, check one against it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from safemirror.config import load_config, resolve_env, source_url
from safemirror.consoles import console, emit, err_console
from safemirror.errors import ConflictError, PolicyError
from safemirror.keys import create_key_file
from safemirror.mirror.manifest import read_state
from safemirror.policy.check import rounded_notes, schema_problems
from safemirror.policy.joins import broken_joins, foreign_keys_of
from safemirror.policy.suggest import suggest_policy
from safemirror.sources.registry import open_source
from safemirror.stopping import stops_unwind

policy_app = typer.Typer(help="Draft and check the data policy.", no_args_is_help=True)


def _warn(message: str) -> None:
    err_console.print(f"[yellow]note:[/yellow] {escape(message)}")


@policy_app.command("suggest")
def suggest_cmd(
    source: str = typer.Option(..., "--source", help="Source URL (or env:VAR holding it)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
    sample_rows: int = typer.Option(2000, "--sample-rows", min=10, max=1_000_000),
) -> None:
    """Draft a complete policy from the live schema and sampled values (errs toward drop)."""
    with stops_unwind():  # Ctrl-C or SIGTERM cancels a read that waits on the source
        src = open_source(resolve_env(source, "--source"))
        try:
            text = suggest_policy(src, sample_rows=sample_rows, warn=_warn)
        finally:
            src.close()
    if output is None:
        emit(text, newline=False)
        return
    if output.exists():
        raise ConflictError(f"{output} already exists", hint="choose another --output path")
    output.write_text(text, encoding="utf-8")
    console.print(escape(f"wrote {output}: review every line before the first sync"))


@policy_app.command("check")
def check_cmd(config: Path | None = typer.Option(None, "--config", "-c")) -> None:
    """Compare the live schema with the policy (and with the schema the last sync read,
    for columns whose type the policy does not pin); exit 3 listing every mismatch."""
    project = load_config(config)
    last = read_state(project.mirror).last_run
    with stops_unwind():
        src = open_source(source_url(project))
        try:
            snapshot = last.schema_snapshot if last else {}
            problems = schema_problems(project.policy, src.tables(), snapshot)
            live = src.tables()
            joins = broken_joins(project.policy, foreign_keys_of(src))
        finally:
            src.close()
    for line in [*joins, *rounded_notes(project.policy, live)]:
        _warn(line)
    if problems:
        lines = [f"  {p.describe()}" for p in problems]
        raise PolicyError(
            f"{project.policy_origin}: {len(problems)} problem(s)\n" + "\n".join(lines),
            hint="do what each line above says, then run 'safemirror policy check' again",
        )
    console.print(
        escape(f"{project.policy_origin}: every table and column of the source is classified")
    )


def keyfile_command(path: Path = typer.Argument(..., help="Where to write the new key.")) -> None:
    """Create a random pseudonymization key file (mode 0600); never overwrites."""
    if path.exists():
        raise ConflictError(
            f"{path} already exists", hint="keys are never overwritten; choose another path"
        )
    create_key_file(path)
    console.print(escape(f"wrote {path} (mode 0600); reference it as 'key: file:{path}'"))


def register(root: typer.Typer) -> None:
    root.add_typer(policy_app, name="policy")
    root.command("keyfile")(keyfile_command)

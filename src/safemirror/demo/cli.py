"""``safemirror demo``: the demo on embedded defaults, and ``demo generate`` for any target.

Heavy imports (NumPy, Arrow) happen inside the commands so ``safemirror --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from safemirror.config import ProjectConfig
from safemirror.consoles import console

if TYPE_CHECKING:
    from safemirror.demo.generate import GenerationSummary

DEMO_KEY_NAME = "demo-admin"

DESCRIPTIONS: dict[str, str] = {
    "users": "accounts: email, name, password hash, country/region, timezone",
    "devices": "cameras, bulbs, plugs, locks, scales: MAC, nickname, Wi-Fi SSID, LAN IP",
    "device_shares": "devices shared with guests (by email)",
    "connection_events": "device connections: outcome, error, signal, latency, client IP",
    "api_tokens": "app sessions: access and refresh tokens (some revoked)",
    "integrations": "Alexa / Google Assistant / IFTTT links with their tokens",
    "body_metrics": "weight, body fat and BMI from smart scales",
}

demo_app = typer.Typer(
    help="The demo: a realistic smart-home production database to run safemirror on.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def summary_table(summary: GenerationSummary, title: str) -> Table:
    """A Rich table of the rows generated per table."""
    table = Table(title=title, title_justify="left")
    table.add_column("table", style="bold")
    table.add_column("rows", justify="right")
    table.add_column("holds")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}", DESCRIPTIONS.get(name, ""))
    table.add_section()
    table.add_row("total", f"{summary.total_rows:,}", f"in {summary.seconds:.1f} s")
    return table


@demo_app.callback()
def demo(
    ctx: typer.Context,
    directory: Path = typer.Option(
        Path("./safemirror-demo"), "--dir", help="Where the demo keeps its files."
    ),
    scale: float = typer.Option(0.01, "--scale", help="Size: 1 = 2.4 M users (0.01 = 24 k)."),
    seed: int = typer.Option(42, "--seed", help="Random seed: same seed, same data."),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Stop after the sync instead of starting the server."
    ),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Server port on 127.0.0.1 (default 8765)."
    ),
) -> None:
    """Run the demo: generate DIR/production.db (SQLite), sync, verify, then serve the mirror."""
    if ctx.invoked_subcommand is not None:
        return
    from safemirror.demo.pipeline import run_demo
    from safemirror.demo.report import policy_table
    from safemirror.stopping import stops_unwind
    from safemirror.sync.cli import print_result

    with stops_unwind():  # Ctrl-C or SIGTERM during the sync: reported as such, cleaned up
        result = run_demo(directory, scale, seed, progress=True)
    console.print(
        summary_table(result.generation, escape(f"Demo production database: {result.production}"))
    )
    console.print(policy_table(result.project.policy, result.sync))
    print_result(result.sync)
    console.print(
        f"\nThe project is in {escape(str(directory))}: production.db, safemirror.key (0600), "
        "policy.yaml, safemirror.yaml and mirror.duckdb.\nGo on there with 'safemirror sync', "
        "'safemirror verify', 'safemirror metrics', 'safemirror serve' and "
        "'safemirror audit verify'."
    )
    if not no_serve:
        serve_demo(result.project, port)


def serve_demo(project: ProjectConfig, port: int | None) -> None:
    """Serve the demo mirror on loopback with a fresh admin key (the previous one is revoked).

    The key is made once ``serve`` has checked the address, so a taken port changes no key.
    """
    from safemirror.server.apikeys import KeyStore
    from safemirror.server.cli import create_key, revoke_key, serve

    def announce(url: str) -> None:
        for record in KeyStore(project.server.keys_file).records():
            if record.name == DEMO_KEY_NAME and record.status() == "active":
                revoke_key(project, record.id, by="demo")
        _, key = create_key(project, "admin", DEMO_KEY_NAME, by="demo")
        console.print(
            f"\n[bold]Dashboard and API:[/] {url}\n[bold]Admin key[/] (shown once; sign in "
            "with it or send 'Authorization: Bearer KEY'):"
        )
        typer.echo(key)

    serve(project, host="127.0.0.1", port=port, on_ready=announce)


@demo_app.command("generate")
def generate_cmd(
    scale: float = typer.Option(0.01, "--scale", help="Size: 1 = 2.4 M users, 6 M devices."),
    seed: int = typer.Option(42, "--seed", help="Random seed: same seed and scale, same bytes."),
    target: str = typer.Option(
        "sqlite:///production.db",
        "--target",
        help="sqlite:///path.db or postgresql://user@host:5432/db",
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Drop and regenerate the tables if the target holds them."
    ),
) -> None:
    """Generate the seven production tables into a SQLite file or a PostgreSQL database."""
    from safemirror.demo.generate import generate

    summary = generate(target, scale=scale, seed=seed, replace=replace, progress=True)
    console.print(summary_table(summary, escape(f"Generated into {summary.target}")))


def register(root: typer.Typer) -> None:
    """Add ``safemirror demo`` to the root command line."""
    root.add_typer(demo_app, name="demo")

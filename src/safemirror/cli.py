"""The ``safemirror`` command line: a root app and one sub-app per capability.

Each capability lives in its own package and exposes ``register(root)``, which adds its
commands to the root app. The list below is the registry; capabilities not built yet are
simply absent from it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click
import typer
from rich.markup import escape

from safemirror import __version__
from safemirror.consoles import err_console
from safemirror.errors import ExitCode, SafemirrorError, Terminated

CLICK_ERRORS: tuple[type[Exception], ...] = (click.ClickException,)
try:  # Typer >= 0.29 vendors its own copy of click
    from typer._click.exceptions import ClickException as _VendoredClickException

    CLICK_ERRORS += (_VendoredClickException,)
except ImportError:  # pragma: no cover - older Typer uses click itself
    pass


CAPABILITIES: tuple[str, ...] = (
    "safemirror.demo.cli",
    "safemirror.policy.cli",
    "safemirror.sync.cli",
    "safemirror.metrics.cli",
    "safemirror.server.cli",
    "safemirror.guard.cli",
    "safemirror.audit_cli",
)


app = typer.Typer(
    name="safemirror",
    help="De-identified analytics mirrors, exposure guard and breach response — one policy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # tracebacks with locals could print secrets
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"safemirror {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """safemirror: copy production safely, serve metrics, guard stores, answer breaches."""


for _module in CAPABILITIES:
    importlib.import_module(_module).register(app)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code (errors are printed)."""
    try:
        result = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except SafemirrorError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(f"[bold]fix:[/] {escape(exc.hint)}", highlight=False)
        return exc.exit_code
    except CLICK_ERRORS as exc:
        exc.show()  # type: ignore[attr-defined]
        return ExitCode.USAGE
    except (click.exceptions.Abort, typer.Abort):
        err_console.print("aborted")
        return ExitCode.FAILURE
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return ExitCode.INTERRUPTED
    except Terminated:
        err_console.print("terminated")
        return ExitCode.TERMINATED
    if result == ExitCode.INTERRUPTED:  # Typer returns Ctrl-C as Exit(130), without a word
        err_console.print("interrupted")
    return result if isinstance(result, int) else ExitCode.OK


def main() -> None:
    """Console entry point."""
    sys.exit(run())

"""The ``safemirror`` command line: a root app and one sub-app per capability.

Each capability lives in its own package and exposes ``register(root)``, which adds its
commands to the root app. ``CAPABILITIES`` is the registry: each capability's module and the
top-level commands it adds. A run imports only the capability that owns the command it was
given (the guard's probes and the web framework are not loaded to print a sync's result),
and every capability when it lists the commands.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click
import typer
from rich.markup import escape

from safemirror import __version__
from safemirror.consoles import err_console, tolerate_encoding
from safemirror.errors import ExitCode, SafemirrorError, Terminated

CLICK_ERRORS: tuple[type[Exception], ...] = (click.ClickException,)
try:  # Typer >= 0.29 vendors its own copy of click
    from typer._click.exceptions import ClickException as _VendoredClickException

    CLICK_ERRORS += (_VendoredClickException,)
except ImportError:  # pragma: no cover - older Typer uses click itself
    pass


CAPABILITIES: dict[str, tuple[str, ...]] = {
    "safemirror.demo.cli": ("demo",),
    "safemirror.policy.cli": ("policy", "keyfile"),
    "safemirror.sync.cli": ("sync", "verify"),
    "safemirror.metrics.cli": ("metrics",),
    "safemirror.server.cli": ("serve", "keys"),
    "safemirror.guard.cli": ("guard",),
    "safemirror.audit_cli": ("audit",),
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"safemirror {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """safemirror: copy production safely, serve metrics, guard stores, answer breaches."""


def _owners(args: Sequence[str]) -> list[str]:
    """The capabilities to load for ``args``: the one owning its command, else all of them."""
    command = next((arg for arg in args if not arg.startswith("-")), None)
    owner = [module for module, names in CAPABILITIES.items() if command in names]
    return owner or list(CAPABILITIES)


def build_app(args: Sequence[str] = ()) -> typer.Typer:
    """The root app, with the capabilities ``args`` needs registered (all when it names none)."""
    root = typer.Typer(
        name="safemirror",
        help="De-identified analytics mirrors, exposure guard and breach response — one policy.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,  # tracebacks with locals could print secrets
        add_completion=False,
    )
    root.callback()(_root)
    for module in _owners(args):
        importlib.import_module(module).register(root)
    return root


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code (errors are printed)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    tolerate_encoding()
    try:
        result = build_app(args)(args=args, standalone_mode=False)
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

"""The command line's two consoles: results on stdout, errors, notes and progress on
stderr. Every command prints through these, so output settings live in one place."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)

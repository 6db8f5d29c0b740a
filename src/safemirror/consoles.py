"""The command line's two consoles: results on stdout, errors, notes and progress on
stderr. Every command prints through these, so output settings live in one place."""

from __future__ import annotations

import sys

import click
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def tolerate_encoding() -> None:
    """Let stdout and stderr print what their encoding cannot hold (an ASCII terminal,
    ``LC_ALL=C``, a Latin-1 locale) as ``?`` rather than stop the command with a
    traceback; data (``emit``) is written in UTF-8 regardless."""
    for stream in (sys.stdout, sys.stderr):
        encoding = str(getattr(stream, "encoding", "") or "").lower().replace("-", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and not encoding.startswith("utf"):
            reconfigure(errors="replace")


def emit(text: str, *, newline: bool = True) -> None:
    """Machine-readable output (CSV, JSON, YAML) on stdout in UTF-8 whatever the locale's
    encoding: a value is never changed to fit a terminal."""
    click.echo((text + ("\n" if newline else "")).encode("utf-8"), nl=False)


def printable(text: str) -> str:
    """``text`` for a terminal: every character it would act on or that reorders or hides
    text (controls such as ESC, bidi overrides, line separators) as a visible escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _visible(c) for c in text)


def _visible(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

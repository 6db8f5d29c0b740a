"""The command line's two consoles: results on stdout, errors, notes and progress on
stderr. Every command prints through these, so output settings live in one place."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


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

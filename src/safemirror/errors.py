"""One exception family for the whole product.

Every error carries a message that says what went wrong and what to do, and an exit
code the command line returns. ``TransientError`` marks failures worth retrying
(a server not answering yet); everything else is terminal.
"""

from __future__ import annotations


class ExitCode:
    """Documented process exit codes (README, "Exit codes")."""

    OK = 0
    FAILURE = 1  # unexpected internal error
    USAGE = 2  # bad command line / bad input file
    POLICY = 3  # policy invalid or out of date with the live schema
    LEAK = 4  # verify found sensitive values in the mirror
    SOURCE = 5  # source or target unreachable / refused
    KEY = 6  # key missing, unreadable, too open or different from the mirror's
    AUDIT = 7  # audit log tampered with
    FINDINGS = 8  # guard found exposures at or above the threshold
    CONFLICT = 9  # target already holds data, or a lock is held
    INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT), as shells report it
    TERMINATED = 143  # stopped by SIGTERM (a service manager), as shells report it


class Terminated(BaseException):
    """SIGTERM arrived while a command that handles it ran (see ``stopping``): like
    ``KeyboardInterrupt``, it unwinds the command so that it cleans up and says so."""


class SafemirrorError(Exception):
    """Base of every error safemirror raises on purpose."""

    exit_code: int = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class TransientError(SafemirrorError):
    """A failure that may succeed when retried."""


class UsageError(SafemirrorError):
    exit_code = ExitCode.USAGE


class ConfigError(SafemirrorError):
    exit_code = ExitCode.USAGE


class PolicyError(SafemirrorError):
    exit_code = ExitCode.POLICY


class LeakError(SafemirrorError):
    exit_code = ExitCode.LEAK


class SourceError(SafemirrorError):
    exit_code = ExitCode.SOURCE


class AccessDenied(SourceError):
    """The source's role lacks a privilege a read needs (SELECT on a table, say)."""


class KeyMaterialError(SafemirrorError):
    exit_code = ExitCode.KEY


class AuditError(SafemirrorError):
    exit_code = ExitCode.AUDIT


class ConflictError(SafemirrorError):
    exit_code = ExitCode.CONFLICT

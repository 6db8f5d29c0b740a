"""What a failed SQLite call says to the user: the trouble SQLite reported, in words of
our own, and what to do about it.

Only SQLite's own result phrases are looked for in a driver's message, which may also
quote a stored value: the message itself is never repeated.
"""

from __future__ import annotations

from pathlib import Path

from safemirror.errors import SourceError

BUSY_TIMEOUT_MS = 5_000  # how long a read waits for a writer's lock before it gives up

# (SQLite's phrase, what it means, what to do)
_TROUBLES = (
    (
        "database is locked",
        f"another connection held a lock on it for more than {BUSY_TIMEOUT_MS // 1000} s",
        "retry when the writer is done; in WAL mode (PRAGMA journal_mode=WAL) readers "
        "never wait for writers",
    ),
    (
        "database table is locked",
        "a table was locked by another connection",
        "retry when the writer is done",
    ),
    (
        "attempt to write a readonly database",
        "it needs a write this read-only reader may not make (a journal left by an "
        "interrupted write must be rolled back first)",
        "open it once with write access (sqlite3 FILE 'PRAGMA quick_check'), which rolls "
        "the interrupted write back, then retry",
    ),
    (
        "database disk image is malformed",
        "the file is damaged",
        "check it with sqlite3 FILE 'PRAGMA integrity_check' and restore it or a copy",
    ),
    (
        "file is not a database",
        "the file is not a SQLite database (or is encrypted)",
        "check the path in the source URL",
    ),
    ("disk I/O error", "reading the file failed", "check the disk and the file"),
    (
        "unable to open database file",
        "the file (or the journal beside it) could not be opened",
        "check that this user may read the file and its directory",
    ),
)


def sqlite_trouble(path: Path, doing: str, detail: str) -> SourceError | None:
    """The error for SQLite's ``detail`` while ``doing`` (say, "reading table 'users'")
    when it names a trouble of the database file itself; None otherwise."""
    for phrase, meaning, hint in _TROUBLES:
        if phrase in detail:
            return SourceError(f"SQLite database {path}: {doing} failed: {meaning}", hint=hint)
    return None


def unopenable(path: Path, doing: str, detail: str) -> SourceError:
    """The error for a file that could not be opened again for a read: removed or replaced
    since the source was opened, say (the driver's words then name no cause: "failed to
    allocate memory")."""
    trouble = sqlite_trouble(path, doing, detail)
    if trouble is not None:
        return trouble
    what = "the file could not be opened" if path.is_file() else "the file no longer exists"
    return SourceError(
        f"SQLite database {path}: {doing} failed: {what}",
        hint="was it moved, removed or replaced while this ran? check the path in the "
        "source URL and that this user may read the file",
    )

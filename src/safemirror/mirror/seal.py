"""Whether the live mirror is the very file the last sync published.

Once a sync has published a mirror, it records the file's identity beside it
(``.NAME.seal``): device, inode, size, and its modification and change times. A later run
that finds the live file with the same identity knows that nothing has written to it
since (a write, a copy over it, a ``touch`` or a ``chmod`` all move the change time, which
cannot be set by hand), so what the last sync recorded in the file still describes its
tables. A missing, unreadable or different seal costs nothing but a check: the run then
verifies against the tables themselves.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

_FIELDS = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")


def seal_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.seal")


def _identity(target: Path) -> list[int]:
    stat = target.stat()
    return [int(getattr(stat, field)) for field in _FIELDS]


def write_seal(target: Path) -> None:
    """Record ``target``'s identity now (best effort: without a seal, the next run checks)."""
    path = seal_path(target)
    temporary = path.with_name(path.name + ".tmp")
    with contextlib.suppress(OSError):
        temporary.write_text(json.dumps(_identity(target)), encoding="utf-8")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)


def remove_seal(target: Path) -> None:
    with contextlib.suppress(OSError):
        seal_path(target).unlink()


def is_sealed(target: Path) -> bool:
    """True when ``target`` is unchanged since the seal beside it was written."""
    try:
        recorded = json.loads(seal_path(target).read_text(encoding="utf-8"))
        return bool(recorded == _identity(target))
    except (OSError, ValueError):
        return False

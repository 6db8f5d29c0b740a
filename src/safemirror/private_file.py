"""Files only their owner may read or write: reports that name exposed stores, and the like."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO


def open_private(path: Path) -> TextIO:
    """``path`` opened to be written as UTF-8 text from its start, with mode 0600 whatever
    the umask, and also when it existed with another mode (before anything is written)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "w", encoding="utf-8")

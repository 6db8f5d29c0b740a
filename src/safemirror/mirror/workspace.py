"""A private working copy of the DuckDB mirror, published atomically.

A sync never writes the live mirror file. It copies it (or starts empty), applies all
changes to the copy, verifies the copy, and only then renames it over the live file, so
a failure or a SIGKILL at any moment leaves the previous mirror intact and queryable.
One sync at a time: an exclusive lock file guards the mirror.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from pathlib import Path
from types import TracebackType

import duckdb

from safemirror.errors import ConflictError
from safemirror.mirror.schema import SYSTEM_DDL


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MirrorWorkspace:
    """Context manager: ``with MirrorWorkspace(path, fresh) as ws: ...; ws.publish()``."""

    def __init__(self, target: Path, *, fresh: bool, memory_limit: str = "1GB") -> None:
        self.target = target
        self.fresh = fresh
        self.memory_limit = memory_limit
        self.work = target.with_name(f".{target.name}.sync-{os.getpid()}.tmp")
        self._lock_path = target.with_name(f".{target.name}.lock")
        self._lock: int | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self.published = False

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("workspace is not open")
        return self._con

    def __enter__(self) -> MirrorWorkspace:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._lock = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            self._lock = None
            raise ConflictError(
                f"another sync is writing {self.target}",
                hint="wait for it to finish, then run again",
            ) from None
        self._remove_leftovers()
        if not self.fresh and self.target.exists():
            shutil.copyfile(self.target, self.work)
        self._con = duckdb.connect(str(self.work))
        self._con.execute(f"SET memory_limit = '{self.memory_limit}'")
        self._con.execute("SET preserve_insertion_order = false")
        for ddl in SYSTEM_DDL:
            self._con.execute(ddl)
        return self

    def _remove_leftovers(self) -> None:
        """Working copies of killed runs (we hold the lock, so none is in use)."""
        for stale in self.target.parent.glob(f".{self.target.name}.sync-*.tmp*"):
            with contextlib.suppress(OSError):
                stale.unlink()

    def publish(self) -> None:
        """Make the working copy the live mirror in one atomic rename."""
        self.con.execute("CHECKPOINT")
        self.con.close()
        self._con = None
        fd = os.open(self.work, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(self.work, 0o600)
        os.replace(self.work, self.target)
        _fsync_dir(self.target.parent)
        self.published = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._con is not None:
            with contextlib.suppress(Exception):
                self._con.close()
            self._con = None
        if not self.published:
            for leftover in self.work.parent.glob(self.work.name + "*"):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

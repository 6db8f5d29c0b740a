"""A private working copy of the DuckDB mirror, published atomically.

A sync never writes the live mirror file. It copies it (or starts empty; a full run starts
a fresh file with the live one attached read-only), applies all changes to the copy,
verifies the copy, and only then renames it over the live file, so a failure or a
SIGKILL at any moment leaves the previous mirror intact and queryable. The copy, with
DuckDB's log and spill files, lives in a directory beside the mirror that only its owner
may enter (``.NAME.sync-PID.tmp``), so no other user can read it before it is published
(mode 0600). One sync at a time: an exclusive lock file guards the mirror.

After an incremental run under the same key and policy, the replaced generation is kept
as a *spare* (``.NAME.spare``) instead of being deleted: freeing a large file's blocks
costs more than copying it, so the next run brings the spare up to date with the live
mirror, rewriting only the blocks that differ, and works on that. Any other run (full,
rebuilt table, new key or policy) deletes the spare, so it never holds what that change
meant to remove. A spare still open by a reader (DuckDB holds a lock on every file it
opens, which an open-file-description lock sees, even from this process) is never
touched; the run then copies to a new file instead. A run that fails discards its working
copy, spare blocks included, so the run after it copies the mirror in full. The spare
doubles the mirror's footprint on disk. Each publish seals the new live file
(``seal``), so the next run can tell whether anything else has written to it since.

DuckDB starts while the live mirror is copied, in a thread of its own (starting an
instance and listing its built-in catalog take tens of ms); the finished copy is then
attached to it as its only database. DuckDB never syncs the private copy itself
(``fsync_mode`` NONE): nothing reads it before the publish, which syncs the closed file
once before the rename. A run's changes go into the copy in one transaction (or, for
incremental tables written at once, one per table, whose commits only append to the copy's
log; see ``sync.writes``), and the run's final commit writes everything straight into the
file (a checkpoint); the fresh copy is flushed to disk in the background meanwhile, so
that the final sync finds little left to write.
Merging half-empty row groups (DuckDB's vacuum) is left to *compacting* publishes, which
the caller asks for now and then: an incremental run appends a small row group per table
and marks replaced rows deleted, and folding those in on every run would cost more than
the run itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import struct
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

import duckdb
import numpy as np

from safemirror.errors import ConflictError, SourceError
from safemirror.mirror.manifest import unreadable
from safemirror.mirror.schema import OFFLINE, PREVIOUS, SYSTEM_DDL, WORKING, quote
from safemirror.mirror.seal import is_sealed, remove_seal, write_seal

_FLUSH_WAIT_S = 600.0  # a commit waits this long at most for the copy's early flush
_BLOCK = 256 * 1024  # DuckDB's block size: the unit a checkpoint rewrites
_WINDOW = 4 * _BLOCK  # how much of each file the spare's update reads at a time
CARRIED_OVER = ("_sm_runs", "_sm_history", "_sm_state")  # what a fresh file keeps
VACUUM_TASKS = 100  # DuckDB's default number of row-group merges a checkpoint may schedule


def _sync(path: Path, *, data_only: bool = False) -> None:
    """Write ``path`` (a file or a directory entry list) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        (os.fdatasync if data_only else os.fsync)(fd)
    finally:
        os.close(fd)


def _flush(path: Path) -> None:
    """Write a fresh copy's pages to disk now, so the commit's sync has little left to do."""
    with contextlib.suppress(OSError):  # a failed run may have removed it; publish syncs anyway
        _sync(path, data_only=True)


def _unused(fd: int) -> bool:
    """True when no process (this one included) has the file open through DuckDB."""
    request = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, request)
    except OSError:
        return False
    return True


def _copy_over(source: Path, target_fd: int) -> int:
    """Make the open file ``target_fd`` byte-identical to ``source``, writing only the
    blocks that differ: a spare shares most of its blocks with the live mirror, and a
    block left alone costs no disk write. Both files are read a window at a time into two
    buffers used again for every window, so what the comparison holds in memory stays
    small. (Reading beats mapping here: unmapping a window makes the kernel flush the
    address translations of every thread of the process, on every core it runs on.)
    Returns the bytes written."""
    new, held = np.empty(_WINDOW, np.uint8), np.empty(_WINDOW, np.uint8)
    with source.open("rb") as src:
        size = os.fstat(src.fileno()).st_size
        written = 0
        for start in range(0, size, _WINDOW):
            got = _read_into(src.fileno(), new, start)
            have = _read_into(target_fd, held, start)
            for at in _stale_blocks(new[:got], held[: min(have, got)]):
                written += _write_all(target_fd, new[at : min(at + _BLOCK, got)], start + at)
    os.ftruncate(target_fd, size)
    return written


def _read_into(fd: int, buffer: np.ndarray, offset: int) -> int:
    """Fill ``buffer`` from ``fd`` at ``offset`` (a read may be short); the bytes read,
    fewer only at the end of the file."""
    view = buffer.data
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if not got:
            break
        done += got
    return done


def _stale_blocks(new: np.ndarray, held: np.ndarray) -> list[int]:
    """The offsets of the blocks of ``new`` that ``held`` (its first bytes, or all) lacks
    or holds otherwise. The blocks both hold whole are compared in one vectorized pass
    (a handful of NumPy calls per window, not several per block: a thread that has to win
    the interpreter back for each call waits behind any busy Python thread each time)."""
    whole = len(held) // _BLOCK * _BLOCK
    stale: list[int] = []
    if whole:
        ours = new[:whole].view(np.uint64).reshape(-1, _BLOCK // 8)
        theirs = held[:whole].view(np.uint64).reshape(-1, _BLOCK // 8)
        stale = (np.flatnonzero((ours != theirs).any(axis=1)) * _BLOCK).tolist()
        del ours, theirs
    for at in range(whole, len(new), _BLOCK):  # a partial block, or blocks beyond ``held``
        end = min(at + _BLOCK, len(new))
        if not (end <= len(held) and np.array_equal(new[at:end], held[at:end])):
            stale.append(at)
    return stale


def _write_all(fd: int, data: np.ndarray, offset: int) -> int:
    """``pwrite`` all of ``data`` at ``offset`` (a write may be short)."""
    view = data.data
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], offset + done)
    return done


def _remove(path: Path) -> None:
    """Remove a leftover file, or directory (DuckDB's spill files), if it can be."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _start_engine(memory_limit: str, work: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB instance for the working copy, its built-in catalog already listed. It
    syncs nothing: the copy is private until published, and the publish syncs it."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "preserve_insertion_order": False,
        "fsync_mode": "NONE",
        "temp_directory": f"{work}.tmp",  # where a file database would spill
        **OFFLINE,
    }
    con = duckdb.connect(":memory:", config=config)
    try:  # the first listing builds DuckDB's default views: tens of ms, done here
        con.execute("SET enable_progress_bar = false")  # the sync reports its own progress
        con.execute("SELECT count(*) FROM duckdb_columns()").fetchall()
    except BaseException:
        con.close()
        raise
    return con


def _attach_working(con: duckdb.DuckDBPyConnection, work: Path) -> set[str]:
    """Attach ``work`` (created if missing) as ``con``'s only and default database, so
    every cursor opened on ``con`` works on it; the names of its tables."""
    (scratch,) = con.execute("SELECT current_database()").fetchall()[0]
    path = str(work).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS {quote(WORKING)}")
    con.execute(f"USE {quote(WORKING)}")
    con.execute(f"DETACH {quote(str(scratch))}")
    return {
        str(row[0])
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    }


def refuse_foreign(target: Path, con: duckdb.DuckDBPyConnection, database: str) -> None:
    """Refuse a live file (attached to ``con`` as ``database``) that holds tables or views
    but no run of safemirror's: a DuckDB database of someone's own at the mirror's path,
    which a sync would replace whole."""
    held = [
        f"{schema}.{name}" if schema != "main" else str(name)
        for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $1 "
            "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
            "WHERE database_name = $1 AND NOT internal ORDER BY ALL",
            [database],
        ).fetchall()
    ]
    if not held or "_sm_runs" in held:
        return
    shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
    raise ConflictError(
        f"{target} is a DuckDB database that no sync made (it holds {shown}); "
        "a sync replaces the whole mirror file, so it leaves this one alone",
        hint="point 'mirror' in the project file at a new path, or move that file away",
    )


class MirrorWorkspace:
    """Context manager: ``with MirrorWorkspace(path) as ws: ws.open(); ...; ws.publish()``.

    Entering only takes the lock; ``open`` does the copying, so a caller may run it in a
    background thread while it connects to the source.
    """

    def __init__(self, target: Path, *, memory_limit: str = "1GB") -> None:
        self.target = target
        self.memory_limit = memory_limit
        # The run's files (the working copy, DuckDB's log and spill files) live in a
        # directory only the owner may enter, whatever modes DuckDB gives them.
        self.private = target.with_name(f".{target.name}.sync-{os.getpid()}.tmp")
        self.work = self.private / target.name
        self._lock_path = target.with_name(f".{target.name}.lock")
        self.spare = target.with_name(f".{target.name}.spare")
        self._lock: int | None = None
        self._flushing: threading.Thread | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self.published = False
        self.previous: str | None = None  # the attached live mirror, on a fresh open
        self.sealed = False  # the live mirror is unchanged since a sync published it

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("workspace is not open")
        return self._con

    def __enter__(self) -> MirrorWorkspace:
        """Take the mirror's lock (fails at once if another sync holds it); see ``open``."""
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
        try:
            self._remove_leftovers()
            os.mkdir(self.private, 0o700)
            os.chmod(self.private, 0o700)  # whatever the umask
        except BaseException:
            self._release_lock()
            raise
        return self

    def _release_lock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

    def open(self, *, fresh: bool = False) -> duckdb.DuckDBPyConnection:
        """Open the working copy of the live mirror (if any) in a transaction.

        ``fresh`` (a run that rebuilds every table) starts from an empty file instead of
        a copy: the live mirror is attached read-only as ``previous`` (for entry times
        and departures) and only its system tables are carried over, so the rebuilt
        mirror does not keep the replaced tables' space."""
        if self._lock is None:
            raise RuntimeError("enter the workspace before opening it")
        replacing = fresh and self.target.exists()
        sealed = not fresh and is_sealed(self.target)
        with ThreadPoolExecutor(1, thread_name_prefix="safemirror-engine") as pool:
            # DuckDB starts (and lists its own catalog, the slow part of a first query)
            # while the live mirror is copied; the copy is then attached to it.
            starting = pool.submit(_start_engine, self.memory_limit, self.work)
            try:
                if self.target.exists() and not fresh:
                    self._copy_live()
                    # Sealed before and after: nothing wrote to it while it was copied.
                    self.sealed = sealed and is_sealed(self.target)
                    self._flushing = threading.Thread(
                        target=_flush, args=(self.work,), name="safemirror-flush", daemon=True
                    )
                    self._flushing.start()  # the copy reaches the disk while the run goes on
            except BaseException:
                with contextlib.suppress(Exception):
                    starting.result().close()
                raise
        try:
            con = starting.result()
        except duckdb.Error as exc:
            raise SourceError(f"DuckDB cannot start: {exc}") from None
        try:
            present = _attach_working(con, self.work)
            if "_sm_runs" not in present:  # a first run, or a file no sync made
                refuse_foreign(self.target, con, WORKING)
        except duckdb.Error as exc:
            con.close()
            raise unreadable(self.target, exc, "opened") from None
        except ConflictError:
            con.close()
            raise
        self._con = con
        for table, ddl in SYSTEM_DDL.items():
            if table not in present:
                con.execute(ddl)
        if replacing:
            self._attach_previous(con)
        # The commit checkpoints at once and skips the WAL.
        con.execute("SET checkpoint_threshold = '1B'")
        con.execute("SET auto_checkpoint_skip_wal_threshold = 0")
        con.execute("BEGIN TRANSACTION")
        return con

    def _attach_previous(self, con: duckdb.DuckDBPyConnection) -> None:
        """Attach the live mirror read-only and carry its system tables over."""
        path = str(self.target).replace("'", "''")
        try:
            con.execute(f"ATTACH '{path}' AS {quote(PREVIOUS)} (READ_ONLY)")
            present = {
                str(r[0])
                for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [PREVIOUS]
                ).fetchall()
            }
            if "_sm_runs" not in present:
                refuse_foreign(self.target, con, PREVIOUS)
            for table in CARRIED_OVER:
                if table in present:
                    con.execute(
                        f"INSERT INTO {quote(table)} BY NAME "
                        f"SELECT * FROM {quote(PREVIOUS)}.main.{quote(table)}"
                    )
        except duckdb.Error as exc:
            raise unreadable(self.target, exc) from None
        self.previous = PREVIOUS

    def _copy_live(self) -> None:
        """Copy the live mirror to the working path, reusing an idle spare when there is one."""
        try:
            fd = os.open(self.spare, os.O_RDWR)
        except FileNotFoundError:
            shutil.copyfile(self.target, self.work)
            return
        try:
            same = os.path.samestat(os.fstat(fd), self.target.stat())  # a run died mid-publish
            if not same and _unused(fd):
                _copy_over(self.target, fd)
                os.replace(self.spare, self.work)
                return
        finally:
            os.close(fd)
        self.spare.unlink()  # in use (or the live file itself): drop the name, not the data
        shutil.copyfile(self.target, self.work)

    def _remove_leftovers(self) -> None:
        """The private directories (or, from older versions, working copies) of killed
        runs (we hold the lock, so none is in use)."""
        for stale in self.target.parent.glob(f".{self.target.name}.sync-*.tmp*"):
            _remove(stale)

    def publish(
        self,
        *,
        keep_spare: bool = False,
        compact: bool = True,
        before_rename: Callable[[], None] | None = None,
    ) -> None:
        """Commit the run, then make the working copy the live mirror in one atomic rename.

        ``keep_spare`` keeps the replaced generation as the spare; pass it only when the
        new mirror continues the old one (same key, same policy), so the spare never holds
        what a key change or a stricter policy meant to remove. ``compact=False`` skips
        merging sparse row groups in this checkpoint. ``before_rename`` runs once the copy
        is complete on disk and before anything else is touched: if it raises, nothing is
        published and the live mirror and its spare stay as they were.
        """
        self.con.execute(f"SET max_vacuum_tasks = {VACUUM_TASKS if compact else 0}")
        self._wait_for_flush()
        self.con.execute("COMMIT")
        self.con.execute("CHECKPOINT")  # anything the commit could not fold in yet
        self.con.close()
        self._con = None
        if self.work.with_name(self.work.name + ".wal").exists():  # never publish half a run
            raise SourceError(
                f"the new mirror for {self.target} was not written out completely",
                hint="run the sync again; the live mirror was left as it was",
            )
        _sync(self.work)
        if before_rename is not None:
            before_rename()
        os.chmod(self.work, 0o600)
        if not keep_spare:
            self.spare.unlink(missing_ok=True)
        elif self.target.exists() and not self.spare.exists():
            with contextlib.suppress(OSError):  # a filesystem without hard links: no spare
                os.link(self.target, self.spare)  # the old generation stays: no block freeing
        remove_seal(self.target)  # it describes the file being replaced
        os.replace(self.work, self.target)
        _sync(self.target.parent)
        self.published = True
        write_seal(self.target)

    def _wait_for_flush(self) -> None:
        if self._flushing is not None:
            self._flushing.join(timeout=_FLUSH_WAIT_S)
            self._flushing = None

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
        self._wait_for_flush()
        _remove(self.private)  # the working copy with it, unless it was published
        self._release_lock()

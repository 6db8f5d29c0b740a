"""Append-only, hash-chained JSON-lines audit log.

Each line is a JSON object ``{"seq", "ts", "kind", "data", "prev", "hash"}`` where
``hash`` is SHA-256 over the canonical JSON of the other fields, and ``prev`` is the
previous line's hash (``"0" * 64`` for the first). Editing, removing, reordering or
truncating lines breaks the chain; ``verify`` finds where. A sidecar ``.head`` file keeps
the last sequence number and hash, so cutting lines off the end is caught too.

Every entry is written to the file before ``append`` returns, so it survives the process
dying. By default it is also fsynced at once; a long-running server may pass
``sync_interval_s`` to fsync in a background thread at most that long after the write
(group commit), trading a power-loss window of that length for request latency.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safemirror.errors import AuditError

GENESIS = "0" * 64
HEAD_SIZE = 128  # bytes of the fixed-width head record


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
_PLAIN = json.JSONEncoder(default=str)
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _digest(seq: int, ts: str, kind: str, data: Any, prev: str) -> str:
    body = _CANONICAL.encode({"seq": seq, "ts": ts, "kind": kind, "data": data, "prev": prev})
    return hashlib.sha256(body.encode()).hexdigest()


def _line(seq: int, ts: str, kind: str, data: Any, prev: str) -> tuple[str, str]:
    """The entry's hash and its line: ``_digest`` and the canonical JSON of every field,
    built from one encoding of each field (keys in sorted order, as ``sort_keys`` puts them).
    """
    encode = _CANONICAL.encode
    head = '{"data":' + encode(data)
    tail = f',"kind":{encode(kind)},"prev":{encode(prev)},"seq":{encode(seq)},"ts":{encode(ts)}}}'
    digest = hashlib.sha256((head + tail).encode()).hexdigest()
    return digest, f'{head},"hash":"{digest}"{tail}'


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as it reads back from JSON (a flat dict of plain scalars already does)."""
    if all(type(k) is str and type(v) in _SCALARS for k, v in data.items()):
        return dict(data)
    loaded: dict[str, Any] = json.loads(_PLAIN.encode(dict(data)))
    return loaded


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _file_identity(fd: int) -> tuple[int, int, int]:
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino, st.st_size)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    kind: str
    data: dict[str, Any]
    prev: str
    hash: str


def _entry(raw: bytes) -> AuditEntry:
    """One line of the log as an entry; ``ValueError`` (not UTF-8, not JSON), ``KeyError``
    or ``TypeError`` (not an entry's fields) when it is not one."""
    obj = json.loads(raw.decode("utf-8"))
    return AuditEntry(
        int(obj["seq"]),
        str(obj["ts"]),
        str(obj["kind"]),
        obj["data"],
        str(obj["prev"]),
        str(obj["hash"]),
    )


@dataclass(frozen=True)
class AuditReport:
    entries: int
    ok: bool
    problem: str | None = None
    line: int | None = None


class AuditLog:
    """An append-only audit log at ``path`` (created on first write, mode 0600)."""

    def __init__(self, path: str | os.PathLike[str], sync_interval_s: float = 0.0) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.sync_interval_s = sync_interval_s
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._syncer: threading.Thread | None = None
        self._syncer_lock = threading.Lock()
        self._last: tuple[tuple[int, int, int], int, str] | None = None

    def _sync_later(self) -> None:
        """Mark the log dirty and make sure the background syncer runs."""
        self._dirty.set()  # nobody waits on it: the syncer looks every interval
        syncer = self._syncer
        if syncer is not None and syncer.is_alive():
            return
        with self._syncer_lock:
            if self._syncer is None or not self._syncer.is_alive():
                self._closed.clear()
                self._syncer = threading.Thread(
                    target=self._sync_loop, name="audit-fsync", daemon=True
                )
                self._syncer.start()

    def _sync_loop(self) -> None:
        """Every interval, fsync what was written since the last one (no wake-up per line)."""
        while not self._closed.wait(self.sync_interval_s):
            if self._dirty.is_set():
                self.sync()

    def sync(self) -> None:
        """fsync the log and its head record now."""
        self._dirty.clear()
        for path in (self.path, self.head_path):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def close(self) -> None:
        """Stop the background syncer, fsyncing what it had not yet."""
        self._closed.set()
        with self._syncer_lock:
            syncer, self._syncer = self._syncer, None
        if syncer is not None:
            syncer.join()
        if self._dirty.is_set():
            self.sync()

    def append(self, kind: str, data: Mapping[str, Any]) -> AuditEntry:
        """Append one entry; safe against concurrent writers through a file lock."""
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND
        try:
            fd = os.open(self.path, flags, 0o600)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                seq, prev = self._tail_cached(fd)
                ts = datetime.now(UTC).isoformat(timespec="microseconds")
                payload = _jsonable(data)
                digest, line = _line(seq, ts, kind, payload, prev)
                entry = AuditEntry(seq, ts, kind, payload, prev, digest)
                _write_all(fd, (line + "\n").encode("utf-8"))
                if self.sync_interval_s <= 0:
                    os.fsync(fd)
                self._write_head(seq, digest)
                self._last = (_file_identity(fd), seq, digest)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if self.sync_interval_s > 0:
            self._sync_later()
        return entry

    def _tail_cached(self, fd: int) -> tuple[int, str]:
        """The next sequence number and previous hash; no read when this log wrote last."""
        last = self._last
        if last is not None and last[0] == _file_identity(fd):
            return last[1] + 1, last[2]
        return self._tail(fd)

    def _tail(self, fd: int) -> tuple[int, str]:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, GENESIS
        block = min(size, 4096)
        while True:
            chunk = os.pread(fd, block, size - block)
            lines = [ln for ln in chunk.splitlines() if ln.strip()]
            if len(lines) >= 2 or block == size:
                break
            block = min(size, block * 2)
        try:
            last = json.loads(lines[-1])
            return int(last["seq"]) + 1, str(last["hash"])
        except (ValueError, TypeError, KeyError):
            raise AuditError(
                f"the audit log {self.path} ends in a line that is not a valid entry, so no "
                "entry can be chained to it",
                hint="run 'safemirror audit verify'; restore the log from a backup, or move "
                "it away to start a new one",
            ) from None

    def check_appendable(self) -> None:
        """Raise ``AuditError`` now if the next ``append`` could not chain to the log's
        last entry (a damaged last line), so a command can refuse before it acts."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._unreadable(exc) from None
        try:
            self._tail(fd)
        except OSError as exc:  # a directory, say
            raise self._unreadable(exc) from None
        finally:
            os.close(fd)

    def _unreadable(self, exc: OSError) -> AuditError:
        return AuditError(f"the audit log {self.path} cannot be read: {exc.strerror}")

    def _write_head(self, seq: int, digest: str) -> None:
        """Overwrite the head record in place: one small write at offset 0, no rename.

        A rename per entry costs about a millisecond on some filesystems; a write this
        small lands whole, and a torn one reads as a corrupt head, never as a valid one.
        """
        record = f'{{"seq": {seq}, "hash": "{digest}"}}'.ljust(HEAD_SIZE - 1) + "\n"
        fd = os.open(self.head_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, record.encode(), 0)
            os.ftruncate(fd, HEAD_SIZE)
        finally:
            os.close(fd)

    def entries(self) -> Iterator[AuditEntry]:
        """Yield entries in file order (no verification)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                if raw.strip():
                    try:
                        yield _entry(raw)
                    except (ValueError, KeyError, TypeError):  # not UTF-8, not JSON, not ours
                        raise AuditError(
                            f"audit log {self.path}, line {lineno}: not a valid audit entry",
                            hint="run 'safemirror audit verify'; restore the log from a backup",
                        ) from None

    def verify(self) -> AuditReport:
        """Check the whole chain; report the first broken line (1-based)."""
        if not self.path.exists():
            if self.head_path.exists():
                return AuditReport(0, False, "the log file is missing but its head record exists")
            return AuditReport(0, True)
        prev, expected_seq, count = GENESIS, 0, 0
        with self.path.open("rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                if not raw.strip():
                    return AuditReport(count, False, "blank line inside the log", lineno)
                try:
                    entry = _entry(raw)
                except (ValueError, KeyError, TypeError):  # not UTF-8, not JSON, not ours
                    return AuditReport(count, False, "line is not a valid audit entry", lineno)
                seq, ts, kind, data = entry.seq, entry.ts, entry.kind, entry.data
                prev_field, digest = entry.prev, entry.hash
                if seq != expected_seq:
                    return AuditReport(
                        count,
                        False,
                        f"sequence {seq} where {expected_seq} was expected "
                        "(a line was removed or reordered)",
                        lineno,
                    )
                if prev_field != prev:
                    return AuditReport(count, False, "chain broken: previous hash differs", lineno)
                if _digest(seq, ts, kind, data, prev_field) != digest:
                    return AuditReport(count, False, "entry was edited (hash mismatch)", lineno)
                prev, expected_seq, count = digest, seq + 1, count + 1
        if self.head_path.exists():
            try:
                head = json.loads(self.head_path.read_bytes())
                head_seq, head_hash = int(head["seq"]), head["hash"]
            except (ValueError, KeyError, TypeError):
                return AuditReport(count, False, "head record is corrupt")
            if head_seq != expected_seq - 1 or head_hash != prev:
                return AuditReport(
                    count, False, "log ends before its recorded head (lines were cut off the end)"
                )
        elif count:
            return AuditReport(count, False, "head record is missing")
        return AuditReport(count, True)

    def require_valid(self) -> None:
        """Raise ``AuditError`` unless the chain verifies."""
        report = self.verify()
        if not report.ok:
            where = f" at line {report.line}" if report.line else ""
            raise AuditError(
                f"audit log {self.path} failed verification{where}: {report.problem}",
                hint="restore the log from a backup and investigate who changed it",
            )

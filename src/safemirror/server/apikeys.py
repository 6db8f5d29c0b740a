"""API keys: created once, stored only as argon2id hashes in a 0600 file, roles, expiry, revoke.

A key reads ``smk_<id>_<secret>``. The id (public, 12 hex digits) finds the record; the
secret is checked against its argon2id hash. The file is rewritten atomically under a lock,
and re-read whenever it changes, so ``safemirror keys revoke`` takes effect on a running
server at its next request.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from safemirror.errors import ConfigError, KeyMaterialError, UsageError

PREFIX = "smk_"
_KEY_RE = re.compile(r"^smk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)  # argon2id
_CACHE_MAX = 4096


class Role(IntEnum):
    """Ordered roles: each includes everything the lower ones may do."""

    viewer = 1
    analyst = 2
    admin = 3

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.strip().lower()]
        except KeyError:
            raise UsageError(
                f"unknown role '{value}'", hint="use viewer, analyst or admin"
            ) from None


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class KeyRecord:
    id: str
    name: str
    role: Role
    hash: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def status(self, at: datetime | None = None) -> str:
        at = at or now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= at:
            return "expired"
        return "active"

    def public(self) -> dict[str, Any]:
        """Everything but the hash."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.name,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "status": self.status(),
        }


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def parse_expiry(text: str | None, at: datetime | None = None) -> datetime | None:
    """``30d``, ``12h``, ``2w`` or an ISO date/time (UTC); None for no expiry."""
    if not text:
        return None
    at = at or now()
    match = re.fullmatch(r"(\d+)([hdw])", text.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        hours = {"h": 1, "d": 24, "w": 168}[unit] * amount
        if not 0 < hours <= 24 * 3660:
            raise UsageError(f"expiry '{text}' is out of range", hint="use 1h to 3650d")
        return at + timedelta(hours=hours)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"cannot read expiry '{text}'",
            hint="use a duration like 30d / 12h / 2w or a date like 2025-12-31",
        ) from None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value <= at:
        raise UsageError(f"expiry {value.isoformat()} is in the past")
    return value


class KeyStore:
    """The keys file: hashed keys only, mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ident: tuple[int, int, int] | None = None
        self._records: dict[str, KeyRecord] = {}
        self._verified: dict[bytes, str] = {}  # sha256(key) -> id, after one argon2 check

    # -- file ---------------------------------------------------------------------------
    def _read(self) -> dict[str, KeyRecord]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._ident, self._verified = None, {}
            return {}
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyMaterialError(
                f"the API keys file {self.path} is readable by other users "
                f"(mode {stat.S_IMODE(st.st_mode):04o})",
                hint=f"chmod 600 {self.path}",
            )
        ident = (st.st_ino, st.st_mtime_ns, st.st_size)
        if ident == self._ident:
            return self._records
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            records = {
                item["id"]: KeyRecord(
                    id=item["id"],
                    name=item["name"],
                    role=Role[item["role"]],
                    hash=item["hash"],
                    created_at=datetime.fromisoformat(item["created_at"]),
                    expires_at=_when(item.get("expires_at")),
                    revoked_at=_when(item.get("revoked_at")),
                )
                for item in raw["keys"]
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"the API keys file {self.path} is unreadable ({exc})",
                hint="restore it from a backup or move it away and create new keys",
            ) from None
        self._ident, self._records, self._verified = ident, records, {}
        return records

    def _write(self, records: dict[str, KeyRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "version": 1,
            "keys": [
                {
                    **asdict(r),
                    "role": r.role.name,
                    "created_at": r.created_at.isoformat(),
                    "expires_at": r.expires_at.isoformat() if r.expires_at else None,
                    "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                }
                for r in records.values()
            ],
        }
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    @contextmanager
    def _locked(self) -> Iterator[dict[str, KeyRecord]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        with self._lock, os.fdopen(fd, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield dict(self._read())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- operations ---------------------------------------------------------------------
    def records(self) -> list[KeyRecord]:
        with self._lock:
            return list(self._read().values())

    def create(
        self, name: str, role: Role, expires_at: datetime | None = None
    ) -> tuple[KeyRecord, str]:
        """Create a key; returns its record and the key itself (shown once, never stored)."""
        if not _NAME_RE.match(name):
            raise UsageError(
                f"invalid key name '{name}'", hint="1-64 characters: letters, digits, space . _ @ -"
            )
        with self._locked() as records:
            if any(r.name == name and r.status() == "active" for r in records.values()):
                raise UsageError(
                    f"an active key named '{name}' already exists",
                    hint="pick another name or revoke the old key first",
                )
            key_id = secrets.token_hex(6)
            while key_id in records:
                key_id = secrets.token_hex(6)
            secret = secrets.token_urlsafe(32)
            record = KeyRecord(key_id, name, role, _HASHER.hash(secret), now(), expires_at)
            records[key_id] = record
            self._write(records)
        return record, f"{PREFIX}{key_id}_{secret}"

    def find(self, id_or_name: str) -> KeyRecord:
        records = self.records()
        if id_or_name in {r.id for r in records}:
            return next(r for r in records if r.id == id_or_name)
        named = [r for r in records if r.name == id_or_name and r.status() == "active"]
        if len(named) != 1:
            raise UsageError(
                f"no active key with id or name '{id_or_name}'", hint="see 'safemirror keys list'"
            )
        return named[0]

    def revoke(self, id_or_name: str) -> KeyRecord:
        target = self.find(id_or_name)
        with self._locked() as records:
            record = records[target.id]
            if record.revoked_at is None:
                record = replace(record, revoked_at=now())
                records[record.id] = record
                self._write(records)
        return record

    def verify(self, key: str) -> tuple[KeyRecord | None, str]:
        """The active record for ``key``, or None and why (never says which part failed)."""
        match = _KEY_RE.match(key)
        if not match:
            return None, "malformed key"
        key_id, secret = match.groups()
        digest = hashlib.sha256(key.encode()).digest()
        with self._lock:
            record = self._read().get(key_id)
            cached = self._verified.get(digest) == key_id
        if record is None:
            _HASHER.hash(secret)  # same cost as a real check: ids cannot be probed by timing
            return None, "unknown key"
        if not cached:
            try:
                _HASHER.verify(record.hash, secret)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None, "wrong secret"
            with self._lock:
                if len(self._verified) >= _CACHE_MAX:
                    self._verified.clear()
                self._verified[digest] = key_id
        status = record.status()
        if status != "active":
            return None, f"key {status}"
        return record, "ok"

    def verified(self, key: str) -> KeyRecord | None:
        """The active record for a key ``verify`` accepted before, when the keys file has not
        changed since; None when that takes more (another thread holds the store, the file
        changed, the key is new, revoked or expired): then call ``verify``. Never blocks."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            try:
                st = self.path.stat()
            except OSError:
                return None
            if (st.st_ino, st.st_mtime_ns, st.st_size) != self._ident or st.st_mode & (
                stat.S_IRWXG | stat.S_IRWXO
            ):
                return None
            key_id = self._verified.get(hashlib.sha256(key.encode()).digest())
            record = self._records.get(key_id) if key_id is not None else None
        finally:
            self._lock.release()
        return record if record is not None and record.status() == "active" else None

    def get(self, key_id: str) -> KeyRecord | None:
        with self._lock:
            return self._read().get(key_id)

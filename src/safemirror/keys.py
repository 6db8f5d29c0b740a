"""The pseudonymization key: where it comes from, how it is checked, its fingerprint.

The key never lives in the policy or the mirror. It is read from an environment
variable (``env:NAME``) or a key file (``file:PATH``) that only its owner may read.
Only a fingerprint (a one-way, domain-separated digest) is ever recorded.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from safemirror.errors import KeyMaterialError

MIN_KEY_BYTES = 32
# 32 random hex digits use fewer than 6 of the 16 with odds of 3 in 10^13.
MIN_DISTINCT_BYTES = 6


def load_key(reference: str, base_dir: Path | None = None) -> bytes:
    """Resolve ``env:NAME`` or ``file:PATH`` to key bytes, refusing weak or exposed keys."""
    if reference.startswith("env:"):
        name = reference[4:]
        value = os.environ.get(name)
        if not value:
            raise KeyMaterialError(
                f"key variable {name} is not set",
                hint=f"export {name} with at least {MIN_KEY_BYTES} random "
                "characters (e.g. from 'openssl rand -hex 32')",
            )
        key = value.strip().encode()
    elif reference.startswith("file:"):
        path = Path(reference[5:])
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            info = path.stat()
        except OSError:
            raise KeyMaterialError(
                f"key file {path} does not exist or cannot be read",
                hint="create it with 'safemirror keyfile PATH'",
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise KeyMaterialError(
                f"key file {path} is not a regular file",
                hint="point 'key: file:PATH' at a key file ('safemirror keyfile PATH')",
            )
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyMaterialError(
                f"key file {path} is readable by other users "
                f"(mode {stat.S_IMODE(info.st_mode):04o})",
                hint=f"chmod 600 {path}",
            )
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise KeyMaterialError(f"cannot read key file {path}: {exc.strerror}") from None
    else:
        raise KeyMaterialError(
            "the key reference must be 'env:NAME' or 'file:PATH'",
            hint="set 'key:' in safemirror.yaml accordingly",
        )
    if len(key) < MIN_KEY_BYTES:
        raise KeyMaterialError(
            f"the key is too short ({len(key)} bytes; need {MIN_KEY_BYTES})",
            hint="use 32 or more random bytes, e.g. 'openssl rand -hex 32'",
        )
    weakness = _not_random(key)
    if weakness:
        raise KeyMaterialError(
            f"the key is not random: {weakness}; anyone who guesses it can reverse every pseudonym",
            hint="create one with 'safemirror keyfile PATH' or 'openssl rand -hex 32'",
        )
    return key


def _not_random(key: bytes) -> str | None:
    """Why ``key`` cannot be random (a placeholder such as 'x' * 32 or 'changeme' * 4),
    without a word of its content; None when nothing gives it away."""
    distinct = len(set(key))
    if distinct < MIN_DISTINCT_BYTES:
        return f"it is made of only {distinct} different characters"
    for period in range(1, len(key) // 2 + 1):
        if len(key) % period == 0 and key == key[:period] * (len(key) // period):
            return f"it repeats the same {period} characters"
    return None


def fingerprint(key: bytes) -> str:
    """A short public identifier of the key; it reveals nothing usable about the key."""
    return hashlib.sha256(b"safemirror/key-fingerprint/v1\x00" + key).hexdigest()[:16]


def create_key_file(path: Path) -> None:
    """Write a fresh random key to ``path`` with mode 0600; never overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")

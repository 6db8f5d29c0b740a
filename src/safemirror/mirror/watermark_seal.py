"""Watermarks sealed with the key, so the mirror never holds a cursor's production value.

A watermark is the greatest cursor value a run read: the production value of a column the
policy may pseudonymize, coarsen or drop (a text key, an exact change time). It is stored
in ``_sm_state`` encrypted with AES-256-GCM-SIV under a key derived from the
pseudonymization key (HMAC-SHA-256, its own label), bound to its table's name. GCM-SIV is
deterministic: the same watermark seals to the same text, which tells only that it did
not change. Without the key the record reads as noise; a record edited, or moved to
another table, fails to open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

from safemirror.errors import SourceError

_LABEL = b"safemirror/watermark-seal/v1"
_NONCE = bytes(12)  # deterministic sealing: GCM-SIV stays secure with a fixed nonce
SEALED = "sealed"  # the JSON field that holds a sealed record


def _cipher(key: bytes) -> AESGCMSIV:
    return AESGCMSIV(hmac.new(key, _LABEL, hashlib.sha256).digest())


def damaged() -> SourceError:
    """The error for a watermark record that cannot be read back."""
    return SourceError(
        "the mirror's watermark record is damaged",
        hint="run 'safemirror sync --full' to rebuild it",
    )


def seal(key: bytes, table: str, record: str) -> str:
    """``record`` (a watermark's JSON) sealed for ``table``, as JSON."""
    sealed = _cipher(key).encrypt(_NONCE, record.encode(), table.encode())
    return json.dumps({SEALED: base64.b64encode(sealed).decode()})


def unseal(key: bytes, table: str, stored: str) -> str:
    """The watermark's JSON that ``seal`` sealed for ``table``; a record an older mirror
    kept in clear is returned as it is (the next run seals it)."""
    try:
        obj = json.loads(stored)
    except ValueError:
        raise damaged() from None
    if not isinstance(obj, dict) or SEALED not in obj:
        return stored
    try:
        sealed = base64.b64decode(str(obj[SEALED]), validate=True)
        return _cipher(key).decrypt(_NONCE, sealed, table.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError):
        raise damaged() from None

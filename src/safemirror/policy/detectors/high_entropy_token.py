"""Opaque credentials: API keys, access/refresh tokens, password hashes, hex digests —
long runs of token characters that look random (high entropy, digits and letters mixed,
no words). UUIDs are identifiers, not credentials, and are left to the id rules."""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import pairwise

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_SEPARATORS = re.compile(r"[_/+~.=-]+")
_WORDY = re.compile(r"[a-z]{5,}|[A-Z][a-z]{4,}")  # runs that read like words


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _kind(ch: str) -> int:
    return 0 if ch.islower() else 1 if ch.isupper() else 2 if ch.isdigit() else 3


def looks_random(token: str) -> bool:
    """True for a random-looking credential string of 20+ characters."""
    if len(token) < 20 or _UUID.fullmatch(token):
        return False
    if not any(ch.isdigit() for ch in token) or not any(ch.isalpha() for ch in token):
        return False
    pieces = [p for p in _SEPARATORS.split(token) if p]
    if len(pieces) >= 3 and max(map(len, pieces)) <= 10:
        return False  # a slug of short words: smart_plug_mini_v2_eu_2023
    if _HEX.fullmatch(token):
        return entropy(token) >= 3.0
    if entropy(token) < 3.5:
        return False
    switches = sum(_kind(a) != _kind(b) for a, b in pairwise(token))
    if token.lower() == token or token.upper() == token:  # one letter case: base32/36
        digits = sum(ch.isdigit() for ch in token)
        return switches >= 0.2 * len(token) and digits >= 0.08 * len(token)
    wordy = sum(len(m) for m in _WORDY.findall(token))
    return switches >= 0.2 * len(token) and wordy <= 0.4 * len(token)


@register
class HighEntropyToken(Detector):
    name = "high_entropy_token"
    description = "credentials or hashes (API keys, tokens, password hashes: random-looking)"
    suggested_action = "secret"
    pattern = "[A-Za-z0-9+/=_~-]{20,}"
    generic = True

    def confirm(self, value: str) -> bool:
        return any(looks_random(c.rstrip("=")) or looks_random(c) for c in self.candidates(value))

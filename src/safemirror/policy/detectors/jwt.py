"""JSON Web Tokens: base64url header and payload that decode to JSON objects."""

from __future__ import annotations

import base64
import binascii
import json

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register


def _json_object(part: str) -> dict[str, object] | None:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError):
        return None
    return decoded if isinstance(decoded, dict) else None


@register
class Jwt(Detector):
    name = "jwt"
    description = "JSON Web Tokens (eyJhbGciOi….eyJzdWIiOi….signature)"
    suggested_action = "secret"
    pattern = r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            header, payload, _ = candidate.split(".", 2)
            head = _json_object(header)
            if (
                head is not None
                and ("alg" in head or "typ" in head)
                and _json_object(payload) is not None
            ):
                return True
        return False

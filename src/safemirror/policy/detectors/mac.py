"""MAC addresses: six hex pairs with one separator (08:00:2b:01:02:03, 08-00-2B-…) or
Cisco's dotted form (0800.2b01.0203)."""

from __future__ import annotations

import re

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_PAIRS = "(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}"
_DOTTED = r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}"
_CORE = re.compile(f"{_PAIRS}|{_DOTTED}")


@register
class Mac(Detector):
    name = "mac"
    description = "MAC addresses (08:00:2b:01:02:03, 0800.2b01.0203)"
    suggested_action = "drop"
    pattern = (
        f"(?:^|[^0-9A-Za-z:.-])(?:{_PAIRS}|{_DOTTED})"
        r"(?:$|[^0-9A-Za-z:.-]|\.(?:$|[^0-9A-Za-z]))"
    )

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            core = _CORE.search(candidate)
            if core is None:
                continue
            text = core.group(0)
            if "." in text:  # dotted: a number like 2024.0101.1200 is not a MAC
                if any(ch.isalpha() for ch in text):
                    return True
            elif len({ch for ch in text if ch in ":-"}) == 1:
                return True
        return False

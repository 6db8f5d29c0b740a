"""Free text: varied multi-word values people typed (notes, messages, addresses). Judged
per column — a product name of four words repeated a thousand times is a category — so
verify does not run it over the mirror."""

from __future__ import annotations

import re
from collections.abc import Sequence

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")


@register
class FreeText(Detector):
    name = "free_text"
    description = "free text (varied multi-word values such as notes, messages, addresses)"
    suggested_action = "drop"
    pattern = "[A-Za-z][^ \t\r\n]*[ \t\r\n]+[^ \t\r\n]+[ \t\r\n]+[^ \t\r\n]+"
    scan_mirror = False
    generic = True

    def confirm(self, value: str) -> bool:
        words = value.split()
        alpha = len(_WORD.findall(value))
        return alpha >= 3 and (len(words) >= 4 or len(value) >= 24)

    def confirm_column(self, confirmed: Sequence[str], scanned: int) -> bool:
        """Varied: most typed values are unique; long ones are text whatever they repeat."""
        if not confirmed:
            return False
        distinct = len(set(confirmed)) / len(confirmed)
        mean_length = sum(map(len, confirmed)) / len(confirmed)
        return distinct >= 0.5 or mean_length >= 40

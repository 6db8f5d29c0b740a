"""Telephone numbers: international (+CC … or 00CC …), North American (555-123-4567) and
trunk-prefixed national forms (020 7946 0958, 07700 900123); plain digit runs are not
phones."""

from __future__ import annotations

import re

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_EDGE_L = r"(?:^|[^0-9A-Za-z+])"
_EDGE_R = r"(?:$|[^0-9A-Za-z])"
_INTERNATIONAL = r"\+[0-9]{1,3}[ .-]?\(?[0-9]{1,4}\)?(?:[ .-]?[0-9]{2,4}){2,4}"
_DIALLED = r"00[1-9][0-9]{0,2}[ .-]\(?[1-9][0-9]{0,3}\)?(?:[ .-][0-9]{2,8}){1,4}"
_DIALLED_CORE = re.compile(_DIALLED)
_TRUNK_STARTS = {f"0{n}" for n in range(1, 10)}
_NANP = r"\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}"
_TRUNK = r"0[0-9]{1,4}(?:[ .-][0-9]{2,4}){2,4}|0[0-9]{2,4}[ .-][0-9]{5,8}"


@register
class Phone(Detector):
    name = "phone"
    description = "telephone numbers (+44 20 7946 0958, (555) 123-4567, 06 12 34 56 78)"
    suggested_action = "drop"
    pattern = f"{_EDGE_L}(?:{_INTERNATIONAL}|{_DIALLED}|{_NANP}|{_TRUNK}){_EDGE_R}"

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            digits = sum(ch.isdigit() for ch in candidate)
            core = candidate.strip(" .-()")
            if "+" in candidate and 8 <= digits <= 15:
                return True
            if _DIALLED_CORE.fullmatch(core) and 10 <= digits <= 17:  # 00 dials out, as + does
                return True
            # a date (2024-01-02, 01.02.2024) has 8 digits; national numbers have 9+, and
            # start with a trunk 0 (not 00) where they start with four digits (not a year)
            if 9 <= digits <= 12 and (not core[:4].isdigit() or core[:2] in _TRUNK_STARTS):
                return True
            if digits == 10 and core[:1] == "(":
                return True
        return False

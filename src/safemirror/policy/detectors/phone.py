"""Telephone numbers: international (+CC …), North American (555-123-4567) and
trunk-prefixed national forms (020 7946 0958); plain digit runs are not phones."""

from __future__ import annotations

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_EDGE_L = r"(?:^|[^0-9A-Za-z+])"
_EDGE_R = r"(?:$|[^0-9A-Za-z])"
_INTERNATIONAL = r"\+[0-9]{1,3}[ .-]?\(?[0-9]{1,4}\)?(?:[ .-]?[0-9]{2,4}){2,4}"
_NANP = r"\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}"
_TRUNK = r"0[0-9]{1,4}(?:[ .-][0-9]{2,4}){2,4}"


@register
class Phone(Detector):
    name = "phone"
    description = "telephone numbers (+44 20 7946 0958, (555) 123-4567, 06 12 34 56 78)"
    suggested_action = "drop"
    pattern = f"{_EDGE_L}(?:{_INTERNATIONAL}|{_NANP}|{_TRUNK}){_EDGE_R}"

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            digits = sum(ch.isdigit() for ch in candidate)
            core = candidate.strip(" .-()")
            if "+" in candidate and 8 <= digits <= 15:
                return True
            # a date (2024-01-02, 01.02.2024) has 8 digits; national numbers have 9+
            if 9 <= digits <= 12 and not core[:4].isdigit():
                return True
            if digits == 10 and core[:1] == "(":
                return True
        return False

"""National identity numbers in their printed forms: US Social Security numbers
(123-45-6789, with dashes or spaces: nine bare digits could be anything), UK National
Insurance numbers (QQ 12 34 56 C) and Spanish DNI/NIE (12345678Z, X1234567L, whose letter
is a check)."""

from __future__ import annotations

import re

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_SSN = "[0-9]{3}([ -])[0-9]{2}[ -][0-9]{4}"
_NINO = "[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]"
_DNI = "[XYZ]?[0-9]{7,8}-?[A-Z]"
_SSN_CORE = re.compile(r"([0-9]{3})([ -])([0-9]{2})\2([0-9]{4})")
_NINO_CORE = re.compile(_NINO)
_DNI_CORE = re.compile(r"([XYZ]?)([0-9]{7,8})-?([A-Z])")
_NINO_NOT = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _ssn(text: str) -> bool:
    m = _SSN_CORE.fullmatch(text)
    if m is None:
        return False
    area, group, serial = m.group(1), m.group(3), m.group(4)
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
        and len(set(area + group + serial)) > 2  # 111-11-1111, 123-12-1212 are placeholders
    )


def _nino(text: str) -> bool:
    return _NINO_CORE.fullmatch(text) is not None and text[:2] not in _NINO_NOT


def _dni(text: str) -> bool:
    m = _DNI_CORE.fullmatch(text)
    if m is None:
        return False
    prefix, digits, letter = m.groups()
    if prefix:  # NIE: X, Y, Z stand for 0, 1, 2 before seven digits
        if len(digits) != 7:
            return False
        digits = str("XYZ".index(prefix)) + digits
    elif len(digits) != 8:
        return False
    return _DNI_LETTERS[int(digits) % 23] == letter


@register
class NationalId(Detector):
    name = "national_id"
    description = "national identity numbers (US SSN 123-45-6789, UK NINO, Spanish DNI/NIE)"
    suggested_action = "drop"
    pattern = f"(?:^|[^0-9A-Za-z-])(?:{_SSN}|{_NINO}|{_DNI})(?:$|[^0-9A-Za-z-])"

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            core = candidate
            if core[:1] and not core[:1].isalnum():
                core = core[1:]
            if core[-1:] and not core[-1:].isalnum():
                core = core[:-1]
            if _ssn(core) or _nino(core) or _dni(core):
                return True
        return False

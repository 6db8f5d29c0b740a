"""International bank account numbers: a country code, two check digits and the account,
bare or in groups of four (DE89 3704 0044 0532 0130 00), of the country's length and
passing ISO 13616's mod-97 check."""

from __future__ import annotations

import re

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.checksums import mod97_valid
from safemirror.policy.detectors.registry import register

# fmt: off
_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
# fmt: on
_CORE = re.compile(r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?")


@register
class Iban(Detector):
    name = "iban"
    description = "bank account numbers (IBAN: DE89 3704 0044 0532 0130 00, mod-97 checked)"
    suggested_action = "drop"
    pattern = (
        r"(?:^|[^0-9A-Za-z])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"
        r"(?:$|[^0-9A-Za-z])"
    )

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            core = _CORE.search(candidate)
            if core is None:
                continue
            iban = core.group(0).replace(" ", "")
            if _LENGTHS.get(iban[:2]) == len(iban) and mod97_valid(iban):
                return True
        return False

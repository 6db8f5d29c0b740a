"""People's names: values of one to four name-like words of which one is a common given
or family name (Amelia, SCHMIDT, Noah O'Brien, García, Sofia). Judged per column — one
city or product named like a person is not a column of names — so it needs a third of a
column's values and five distinct ones, and verify does not run it over the mirror."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.name_lists import FAMILY, GIVEN
from safemirror.policy.detectors.registry import register

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_NAMES = GIVEN | FAMILY


def _folded(word: str) -> str:
    """``word`` in lower case without accents: José, JOSE and jose alike."""
    bare = unicodedata.normalize("NFKD", word.lower().replace("’", "'"))
    return "".join(c for c in bare if not unicodedata.combining(c))


@register
class PersonName(Detector):
    name = "person_name"
    description = "people's names (Amelia Schmidt, O'BRIEN, Sofia)"
    suggested_action = "drop"
    pattern = "[A-Za-z]{2,}"
    scan_mirror = False

    def confirm(self, value: str) -> bool:
        words = value.replace(",", " ").split()
        if not 1 <= len(words) <= 4 or not all(_WORD.fullmatch(w) for w in words):
            return False
        return any(_folded(w) in _NAMES for w in words)

    def confirm_column(self, confirmed: Sequence[str], scanned: int) -> bool:
        return len(confirmed) >= max(1, scanned / 3) and len(set(confirmed)) >= 5

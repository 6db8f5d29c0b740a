"""Payment card numbers (PANs): 13 to 19 digits, bare or grouped by spaces or dashes
(4111 1111 1111 1111, 3782-822463-10005), with a card network's prefix and length and a
valid Luhn check digit. A column of digit-run identifiers holds some that pass by chance
(one in ten): when most of its candidates fail the check, the column is not cards."""

from __future__ import annotations

import re
from itertools import islice

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.checksums import luhn_valid
from safemirror.policy.detectors.registry import register

_GROUPED = re.compile(r"[0-9]{4}([ -])[0-9]{4,6}(?:\1[0-9]{4,5}){1,2}(?:\1[0-9]{1,3})?")
# (first digits, lengths): Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro
_NETWORKS = (
    (re.compile(r"4"), {13, 16, 19}),
    (re.compile(r"5[1-5]|2(?:2[2-9]|[3-6][0-9]|7[01]|720)"), {16}),
    (re.compile(r"3[47]"), {15}),
    (re.compile(r"6011|64[4-9]|65"), {16, 19}),
    (re.compile(r"3(?:0[0-5]|[689])"), {14, 16}),
    (re.compile(r"35(?:2[89]|[3-8][0-9])"), {16, 19}),
    (re.compile(r"62"), {16, 17, 18, 19}),
    (re.compile(r"5[06-9]|6[0-9]"), {12, 13, 14, 15, 16, 17, 18, 19}),
)
_CORE = re.compile(r"[0-9](?:[ -]?[0-9]){11,18}")
_GATE_SAMPLE = 500


def is_card_number(text: str) -> bool:
    """``text`` (digits, perhaps grouped) is a plausible card number."""
    digits = text.replace(" ", "").replace("-", "")
    if not digits.isdigit() or len(set(digits)) < 2:
        return False
    if digits != text and not _GROUPED.fullmatch(text):
        return False  # grouped, but not as cards are printed
    return luhn_valid(digits) and any(
        prefix.match(digits) and len(digits) in lengths for prefix, lengths in _NETWORKS
    )


@register
class PaymentCard(Detector):
    name = "payment_card"
    description = "payment card numbers (4111 1111 1111 1111: network prefix, Luhn check)"
    suggested_action = "drop"
    pattern = r"(?:^|[^0-9A-Za-z.,+/_-])[0-9](?:[ -]?[0-9]){11,18}(?:$|[^0-9A-Za-z.,/_-])"

    def candidates(self, value: str) -> list[str]:
        return [m.group(0) for c in super().candidates(value) if (m := _CORE.search(c))]

    def confirm(self, value: str) -> bool:
        return any(is_card_number(c) for c in self.candidates(value))

    def column_gate(self, strings: pa.Array) -> bool:
        found = pc.filter(strings, pc.match_substring_regex(strings, self.pattern))
        values = [v for v in islice(found.to_pylist(), _GATE_SAMPLE) if v is not None]
        if len(values) < 20:
            return True
        checked = sum(
            any(luhn_valid(c.replace(" ", "").replace("-", "")) for c in self.candidates(v))
            for v in values
        )
        return checked >= 0.5 * len(values)

"""IPv4 addresses: exactly four dotted octets (a version such as 2.14.3 or 1.2.3.4.5 is
not one; neither is v1.2.3.4). A column of four-part build numbers (4.52.6.960,
1.4.6.147) holds a few that happen to be valid addresses; when a fifth or more of a
column's dotted quads are not valid addresses, the column is versions, not IPs."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_CORE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_QUAD = r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$"
_BAD_PART = r"(^|\.)(0[0-9]+|25[6-9]|2[6-9][0-9]|[3-9][0-9][0-9]|[0-9]{4,})(\.|$)"


@register
class IPv4(Detector):
    name = "ipv4"
    description = "IPv4 addresses (192.168.1.20, 10.0.0.1/24)"
    suggested_action = "drop"
    pattern = (
        r"(?:^|[^0-9A-Za-z._-])[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
        r"(?:$|[^0-9A-Za-z.-]|\.(?:$|[^0-9A-Za-z]))"
    )

    def column_gate(self, strings: pa.Array) -> bool:
        quads = pc.filter(strings, pc.match_substring_regex(strings, _QUAD))
        if not len(quads):
            return True
        bad = int(pc.sum(pc.match_substring_regex(quads, _BAD_PART)).as_py() or 0)
        return bad < 0.2 * len(quads)

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            core = _CORE.search(candidate)
            if core is None:
                continue
            octets = core.group(0).split(".")
            if all(int(o) <= 255 and (o == "0" or not o.startswith("0")) for o in octets):
                return True
        return False

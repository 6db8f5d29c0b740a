"""IPv6 addresses: eight groups, or a '::' compression (validated by ``ipaddress``);
clock times (10:00:00) and MAC addresses are neither."""

from __future__ import annotations

import ipaddress
import re

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_H = "[0-9A-Fa-f]{1,4}"
_FULL = f"(?:{_H}:){{7}}{_H}"
_COMPRESSED = f"(?:{_H}(?::{_H}){{0,6}})?::(?:{_H}(?::{_H}){{0,6}})?"
_CORE = re.compile(f"{_FULL}|{_COMPRESSED}")
_EDGE_L = "(?:^|[^0-9A-Za-z:])"
_EDGE_R = "(?:$|[^0-9A-Za-z:])"


@register
class IPv6(Detector):
    name = "ipv6"
    description = "IPv6 addresses (2001:db8::8a2e:370:7334, fe80::1)"
    suggested_action = "drop"
    pattern = f"{_EDGE_L}(?:{_FULL}|{_COMPRESSED}){_EDGE_R}"

    def confirm(self, value: str) -> bool:
        whole = value.strip()
        for candidate in self.candidates(value):
            found = _CORE.search(candidate)
            if found is None:
                continue
            core = found.group(0)
            try:
                ipaddress.IPv6Address(core)
            except ValueError:
                continue
            groups = [g for g in core.split(":") if g]
            # 'std::string' holds a valid 'd::'; demand two groups unless it is the value
            if len(groups) >= 2 or core == whole:
                return True
        return False

"""Email addresses."""

from __future__ import annotations

import re

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_TLD = re.compile(r"[A-Za-z]{2,24}")


@register
class Email(Detector):
    name = "email"
    description = "email addresses (user@example.com)"
    suggested_action = "drop"
    pattern = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            local, _, domain = candidate.rpartition("@")
            local = local.lstrip(".")  # 'see.john@…' or a sentence's full stop before it
            labels = domain.split(".")
            if (
                0 < len(local) <= 64
                and ".." not in local
                and all(
                    label and not label.startswith("-") and not label.endswith("-")
                    for label in labels
                )
                and _TLD.fullmatch(labels[-1])
            ):
                return True
        return False

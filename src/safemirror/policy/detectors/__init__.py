"""Detectors of sensitive values (emails, phones, IPs, MACs, cards, IBANs, national ids,
coordinates, names, credentials, free text): one per
module, registered by name, each with fixture cases in tests/policy/detectors/fixtures."""

from safemirror.policy.detectors.base import Detector, Hit
from safemirror.policy.detectors.registry import (
    all_detectors,
    get_detector,
    mirror_detectors,
    register,
)
from safemirror.policy.detectors.scan import detect_column

__all__ = [
    "Detector",
    "Hit",
    "all_detectors",
    "detect_column",
    "get_detector",
    "mirror_detectors",
    "register",
]

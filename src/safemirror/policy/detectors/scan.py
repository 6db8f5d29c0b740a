"""Run the detectors over one column of values."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from safemirror.policy.detectors.base import CONFIRM_CAP, Detector, Hit
from safemirror.policy.detectors.registry import all_detectors


def detect_column(
    values: pa.Array | pa.ChunkedArray,
    *,
    detectors: Sequence[Detector] | None = None,
    cap: int = CONFIRM_CAP,
) -> list[Hit]:
    """Hits of every detector on ``values`` (non-text values: none), best first.

    The regexes run vectorized over all values; ``confirm`` runs in Python on at most
    ``cap`` candidates per detector and the fraction is extrapolated from them."""
    hits = [
        hit
        for d in (all_detectors() if detectors is None else detectors)
        if (hit := d.detect(values, cap)) is not None
    ]
    return sorted(hits, key=lambda h: (-h.fraction, h.detector))

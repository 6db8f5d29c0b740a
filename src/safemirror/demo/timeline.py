"""The demo's fixed clock: every generated timestamp lies before ``REFERENCE``.

Times are ``int64`` microseconds since the Unix epoch, UTC. The generator never reads the
wall clock, so the same seed and scale give byte-identical data on any day.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
YEAR = 365 * DAY + 6 * HOUR

NULL_TS = np.iinfo(np.int64).min  # marks a missing timestamp in generator arrays


def micros(moment: datetime) -> int:
    """``moment`` (aware, or naive meaning UTC) as microseconds since the epoch."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * SECOND + delta.microseconds


REFERENCE = micros(datetime(2026, 6, 30, tzinfo=UTC))  # "now" for generated data
LAUNCH = micros(datetime(2018, 9, 1, tzinfo=UTC))  # the company's first signup
SIGNUP_GROWTH = 0.45  # signups grow by e^0.45 ≈ 1.57× a year


def year_fraction(year: float) -> int:
    """A decimal year (2021.5) as microseconds, at midnight UTC."""
    whole = int(year)
    start = micros(datetime(whole, 1, 1, tzinfo=UTC))
    return start + round((year - whole) * 365) * DAY


def signup_times(quantiles: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Signup instants for quantiles in [0, 1) of an exponentially growing signup rate."""
    span = (REFERENCE - LAUNCH) / YEAR
    years = np.log1p(quantiles * np.expm1(SIGNUP_GROWTH * span)) / SIGNUP_GROWTH
    out: npt.NDArray[np.int64] = LAUNCH + (years * YEAR).astype(np.int64)
    return out


def between(
    u: npt.NDArray[np.float64], start: npt.NDArray[np.int64], end: npt.NDArray[np.int64] | int
) -> npt.NDArray[np.int64]:
    """``start + u × (end − start)``, element-wise, in whole microseconds."""
    return start + ((end - start) * u).astype(np.int64)

"""Time grains, the validated query of a metric and its period spine.

A range is given in whole UTC days, both ends inclusive. Each period is labelled by its
start (``date_trunc``: weeks start on Monday) and clipped to the range, so the first and
last periods may be partial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, get_args

from safemirror.errors import UsageError

Grain = Literal["day", "week", "month"]
GRAINS: tuple[Grain, ...] = get_args(Grain)
MAX_PERIODS = 400
LAST_DAY = date(9999, 11, 30)  # the day after, and its week's and month's ends, still exist


def truncate(day: date, grain: Grain) -> date:
    """The first day of the period holding ``day``."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def following(start: date, grain: Grain) -> date:
    """The first day of the next period."""
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return date(year, month, 1)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time())


@dataclass(frozen=True)
class Period:
    """One period: its label (start of the calendar period) and its clipped bounds."""

    label: date
    start: datetime  # inclusive
    end: datetime  # exclusive


@dataclass(frozen=True)
class MetricQuery:
    """What to compute: an inclusive day range, a grain and an optional dimension."""

    start: date
    end: date
    grain: Grain = "month"
    by: str | None = None

    def __post_init__(self) -> None:
        if self.grain not in GRAINS:
            raise UsageError(
                f"unknown grain '{self.grain}'", hint=f"use one of {', '.join(GRAINS)}"
            )
        if self.end < self.start:
            raise UsageError(
                f"the range ends ({self.end}) before it starts ({self.start})",
                hint="swap --from and --to",
            )
        if self.end > LAST_DAY:
            raise UsageError(
                f"the range must end by {LAST_DAY}, not {self.end}", hint="pick an earlier --to"
            )
        count = len(self.periods())
        if count > MAX_PERIODS:
            raise UsageError(
                f"{count} {self.grain} periods requested; at most {MAX_PERIODS}",
                hint="shorten the range or use a coarser grain",
            )

    @property
    def start_ts(self) -> datetime:
        return midnight(self.start)

    @property
    def end_ts(self) -> datetime:
        """Exclusive upper bound: midnight after the last day."""
        return midnight(self.end + timedelta(days=1))

    def periods(self) -> tuple[Period, ...]:
        """The periods of the range (immutable, shared by equal queries)."""
        return _periods(self.start, self.end, self.grain)


@lru_cache(maxsize=64)  # a few recent ranges: the dashboard asks for the same ones
def _periods(start: date, end: date, grain: Grain) -> tuple[Period, ...]:
    out: list[Period] = []
    start_ts, end_ts = midnight(start), midnight(end + timedelta(days=1))
    label = truncate(start, grain)
    while label <= end:
        nxt = following(label, grain)
        out.append(Period(label, max(midnight(label), start_ts), min(midnight(nxt), end_ts)))
        label = nxt
        if len(out) > MAX_PERIODS:
            break
    return tuple(out)


def query_range(
    start: date | None, end: date | None, latest: Callable[[], date | None], today: date
) -> tuple[date, date]:
    """The range asked for, its missing ends filled in: by default the twelve months (from
    the 1st of the month) up to ``end``, or without one up to the latest data (``latest``,
    asked only then) or today when the mirror is empty, but no later than ``LAST_DAY`` (a
    row stamped 9999-12-31 is data too)."""
    if start is not None and end is not None:
        return start, end
    last = end or min(latest() or today, LAST_DAY)
    year, month = last.year, last.month - 11
    if month <= 0:
        year, month = year - 1, month + 12
    return start or date(year, month, 1), last


def parse_day(text: str, what: str) -> date:
    """Parse ``YYYY-MM-DD`` with a message that names the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{what} must be a date like 2024-01-31, not '{text}'") from None

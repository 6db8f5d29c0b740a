"""What a run records as a table's watermark, and the row versions read at it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from safemirror.errors import SourceError
from safemirror.mirror.manifest import decode_watermark, encode_watermark
from safemirror.sources.common import held_back
from safemirror.sync.plan import TablePlan
from safemirror.sync.run import MAX_VERSIONS, _watermark


def _plan(since: Any, skip: tuple[int, ...] = ()) -> TablePlan:
    return TablePlan(
        name="t",
        policy=None,  # type: ignore[arg-type]
        info=None,  # type: ignore[arg-type]
        select=["id"],
        incremental=since is not None,
        since=since,
        table_hash="h",
        skip_versions=skip,
    )


def test_a_later_mark_keeps_the_versions_read_at_it() -> None:
    assert _watermark(_plan(10, (7,)), 12, {5, 3}) == (12, (3, 5))


def test_the_same_mark_keeps_the_versions_left_out_of_this_read() -> None:
    assert _watermark(_plan(10, (7,)), 10, {5}) == (10, (5, 7))


def test_a_mark_that_went_back_keeps_no_versions() -> None:
    # rows at the new mark lie before the last watermark: this read did not take them all
    assert _watermark(_plan(10, (7,)), 8, {5}) == (8, ())
    assert _watermark(_plan(10, (7,)), "8", {5}) == ("8", ())  # a cursor of another type


def test_an_empty_table_keeps_its_watermark() -> None:
    assert _watermark(_plan(10, (7,)), None, set()) == (10, (7,))
    assert _watermark(_plan(None), None, set()) == (None, ())


def test_a_full_read_records_what_it_read_and_no_more_than_the_cap() -> None:
    many = set(range(3, MAX_VERSIONS + 50))
    mark, versions = _watermark(_plan(None), 12, many)
    assert mark == 12 and len(versions) == MAX_VERSIONS and set(versions) <= many


def test_versions_round_trip_and_damaged_ones_are_refused() -> None:
    assert decode_watermark(encode_watermark(12, (3, 9))) == (12, (3, 9))
    assert decode_watermark(encode_watermark(12)) == (12, ())  # as older mirrors stored it
    for bad in (["3"], [2**32], [-1], "3", [True]):
        text = json.dumps({"t": "json", "v": 1, "read_at_mark": bad})
        with pytest.raises(SourceError, match="damaged"):
            decode_watermark(text)


def test_a_watermark_is_held_back_to_where_rows_not_seen_may_be_stamped() -> None:
    at = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    earlier = datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert held_back(at, earlier) == earlier
    assert held_back(earlier, at) == earlier
    assert held_back(date(2025, 1, 2), earlier) == date(2025, 1, 1)
    assert held_back(42, earlier) == 42  # a counter cannot be bounded by a time
    assert held_back(None, earlier) is None  # an empty table keeps its watermark
    assert held_back(at, None) == at
    in_paris = datetime(2025, 1, 2, 4, 0, tzinfo=timezone(timedelta(hours=2)))
    assert held_back(at, in_paris) == datetime(2025, 1, 2, 2, 0, tzinfo=UTC)

"""Building blocks: string formatting, bijections behind uniqueness, the name pools."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import numpy as np
import pytest

from safemirror.demo import strings, vocab
from safemirror.demo.network import MAC_SPACE, macs
from safemirror.demo.rand import permute
from safemirror.demo.timeline import micros
from safemirror.demo.users import emails


def test_timestamps_format_like_datetime() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, micros(datetime(2100, 1, 1)), 5000)
    values[:3] = [
        0,
        micros(datetime(2024, 2, 29, 23, 59, 59, 999999)),
        micros(datetime(2000, 3, 1)),
    ]
    got = strings.format_timestamps(values).to_pylist()
    want = [
        datetime.fromtimestamp(int(v) // 1_000_000, UTC)
        .replace(microsecond=int(v) % 1_000_000)
        .strftime("%Y-%m-%d %H:%M:%S.%f")
        for v in values
    ]
    assert got == want
    valid = np.array([True, False, True])
    assert strings.format_timestamps(values[:3], valid).to_pylist()[1] is None


def test_base64url_matches_the_standard_library() -> None:
    data = np.random.default_rng(1).integers(0, 256, (50, 33), dtype=np.uint8)
    got = strings.from_matrix(strings.base64url(data)).to_pylist()
    assert got == [base64.urlsafe_b64encode(row.tobytes()).decode() for row in data]


def test_permute_is_a_bijection() -> None:
    index = np.arange(200_000)
    assert len(np.unique(permute(1, "x", index))) == len(index)


def test_name_pools_make_unambiguous_emails() -> None:
    pools = (vocab.FIRST_NAMES, vocab.LAST_NAMES)
    assert all(len(set(p)) == len(p) for p in pools)
    assert all(name.isascii() and name.isalpha() and name.islower() for p in pools for name in p)
    joined = [f + last for f in vocab.FIRST_NAMES for last in vocab.LAST_NAMES]
    assert len(set(joined)) == len(joined)  # "ann"+"abel" never equals "anna"+"bel"


def test_emails_unique_across_blocks_and_late_users() -> None:
    index = np.arange(0, 350_000, dtype=np.int64)  # three name blocks
    early = emails(42, index).to_pylist()
    assert len(set(early)) == len(early)
    late = emails(99, np.arange(350_000, 400_000, dtype=np.int64), late=True).to_pylist()
    assert not set(late) & set(early) and len(set(late)) == len(late)


def test_macs_unique() -> None:
    index = np.arange(0, 2_000_000, 7, dtype=np.int64)
    got = macs(index).to_pylist()
    assert len(set(got)) == len(got)
    assert MAC_SPACE > 60_000_000  # room for scale 10


@pytest.mark.parametrize("weights", [vocab.FIRST_DEVICE_MIX, vocab.LATER_DEVICE_MIX])
def test_category_mixes_are_distributions(weights: tuple[float, ...]) -> None:
    assert len(weights) == len(vocab.CATEGORIES) and sum(weights) == pytest.approx(1.0)


def test_empty_inputs_give_empty_columns() -> None:
    assert strings.base64url(np.zeros((0, 33), dtype=np.uint8)).shape == (0, 44)
    assert len(strings.format_timestamps(np.zeros(0, dtype=np.int64))) == 0
    assert len(emails(1, np.zeros(0, dtype=np.int64))) == 0

"""The fast pseudonymizer against a plain reference HMAC, across batches and caches."""

from __future__ import annotations

import hmac

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safemirror.transforms import pseudocache
from safemirror.transforms.pseudocache import IntCache, distinct
from safemirror.transforms.pseudonymize import KeyedHasher, Pseudonymizer

KEY = b"0123456789abcdef0123456789abcdef"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EDGE_INTS = [0, 1, -1, 9, 10, -10, 99, 100, 2**31 - 1, -(2**31), 2**53 + 1, INT64_MIN, INT64_MAX]
EDGE_TEXTS = [
    "",
    "7",
    "-0",
    " 7",
    "a\x00b",
    "ünïcödé",
    "e\u0301",  # combining accent: hashed as its exact bytes, not normalized
    "東京",
    "😀 emoji",
    "x" * 55,  # the longest value that fits the inner hash's single block with "user\0"
    "x" * 56,
    "y" * 5000,  # long enough for hashlib to release the GIL
]


def reference(key: bytes, domain: str, value: object) -> int:
    digest = hmac.new(key, domain.encode() + b"\0" + str(value).encode(), "sha256").digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def expected(domain: str, values: list[object], key: bytes = KEY) -> list[int | None]:
    return [None if v is None else reference(key, domain, v) for v in values]


def test_integers_match_reference_including_extremes() -> None:
    values = [*EDGE_INTS, None, 5, 5]
    out = Pseudonymizer(KEY).array("user", pa.array(values, pa.int64()))
    assert out.to_pylist() == expected("user", values)


def test_texts_match_reference_including_unicode_and_empty() -> None:
    values = [*EDGE_TEXTS, None, ""]
    for type_ in (pa.string(), pa.large_string()):
        out = Pseudonymizer(KEY).array("email", pa.array(values, type_))
        assert out.type == pa.int64()
        assert out.to_pylist() == expected("email", values)


def test_binary_values_are_hashed_as_their_bytes() -> None:
    values = [b"\x00\xff", b"", None, b"\xde\xad\xbe\xef", b"\x00\xff"]
    for type_ in (pa.binary(), pa.large_binary()):
        out = Pseudonymizer(KEY).array("device", pa.array(values, type_))
        assert out.to_pylist() == [
            None
            if v is None
            else int.from_bytes(
                hmac.new(KEY, b"device\0" + v, "sha256").digest()[:8], "big", signed=True
            )
            for v in values
        ]
    # the bytes of a text value hash as the text does
    as_text = Pseudonymizer(KEY).array("device", pa.array(["abc"])).to_pylist()
    assert Pseudonymizer(KEY).array("device", pa.array([b"abc"])).to_pylist() == as_text


def test_long_keys_are_hashed_first_like_rfc2104() -> None:
    key = bytes(range(100))
    out = Pseudonymizer(key).array("d", pa.array([1, 2, 3]))
    assert out.to_pylist() == expected("d", [1, 2, 3], key)


def test_keyed_hasher_of_nothing_is_empty() -> None:
    hasher = KeyedHasher(KEY)
    assert hasher.many(b"d\0", []).dtype == np.int64
    assert len(hasher.integers(b"d\0", np.empty(0, np.int64))) == 0


@pytest.mark.parametrize("type_", [pa.int8(), pa.int16(), pa.int32(), pa.uint32(), pa.int64()])
def test_every_integer_type_hashes_its_decimal_text(type_: pa.DataType) -> None:
    values = [0, 1, 7, 100, None]
    out = Pseudonymizer(KEY).array("device", pa.array(values, type_))
    assert out.to_pylist() == expected("device", values)


def test_dense_ids_across_batches_slices_and_cache_hits() -> None:
    engine = Pseudonymizer(KEY)
    ids = np.arange(1, 50_001, dtype=np.int64)
    batch = pa.array(ids)
    seen: list[int] = []
    for start in range(0, len(ids), 7_000):  # zero-copy slices with offsets, like the source
        seen += engine.array("user", batch.slice(start, 7_000)).to_pylist()
    assert seen == expected("user", ids.tolist())
    again = engine.array("user", pa.array(ids[::-1].copy())).to_pylist()  # all cache hits
    assert again == seen[::-1]
    at_once = Pseudonymizer(KEY).array("user", batch).to_pylist()  # hashed in several chunks
    assert at_once == seen


def test_sparse_far_and_negative_ids_use_the_sorted_cache() -> None:
    engine = Pseudonymizer(KEY)
    rng = np.random.default_rng(3)
    batches = [
        rng.integers(INT64_MIN, INT64_MAX, 500, dtype=np.int64, endpoint=True),
        np.array([5, 6, 10**15, -(10**15), INT64_MAX, INT64_MIN, 5], np.int64),
        rng.integers(1, 3_000, 4_000, dtype=np.int64),  # dense: a window beside sorted entries
        np.array([7, 10**15, 2_999, INT64_MIN, 123_456_789], np.int64),  # both at once
    ]
    for values in batches:
        out = engine.array("device", pa.array(values)).to_pylist()
        assert out == expected("device", values.tolist())


def test_window_growth_moves_sorted_entries_in_and_keeps_values() -> None:
    cache, calls = IntCache(), []

    def hash_ints(new: np.ndarray) -> np.ndarray:
        calls.append(new.tolist())
        return new * 3

    assert cache.lookup(np.array([10**12, 40], np.int64), hash_ints).tolist() == [3 * 10**12, 120]
    assert cache.lookup(np.arange(1, 100, dtype=np.int64), hash_ints).tolist() == [
        3 * v for v in range(1, 100)
    ]
    assert 40 not in calls[-1]  # moved into the window, not hashed again
    assert cache.lookup(np.array([40, 10**12], np.int64), hash_ints).tolist() == [120, 3 * 10**12]
    assert len(calls) == 2
    assert cache.keys.tolist() == [10**12]
    assert cache.filled == 99


def test_window_grows_geometrically_both_ways() -> None:
    cache, reallocations = IntCache(), 0
    descending = [np.arange(hi - 999, hi + 1, dtype=np.int64) for hi in range(10_000, 0, -1_000)]
    ascending = [np.arange(lo, lo + 1_000, dtype=np.int64) for lo in range(10_001, 30_000, 1_000)]
    for values in descending + ascending:  # read in descending id order, then new ids on top
        before = cache.table
        assert cache.lookup(values, lambda new: new * 5).tolist() == (values * 5).tolist()
        reallocations += cache.table is not before
    assert reallocations <= 8
    assert cache.filled == 30_000 and not len(cache.keys)


def test_bounded_caches_restart_and_stay_correct(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pseudocache, "DENSE_LIMIT", 64)
    monkeypatch.setattr(pseudocache, "DENSE_MIN", 16)
    monkeypatch.setattr(pseudocache, "CACHE_LIMIT", 50)
    monkeypatch.setattr(pseudocache, "TEXT_LIMIT", 20)
    engine = Pseudonymizer(KEY)
    for start in (0, 40, 1_000, 0, 5_000, 40):
        values = np.arange(start, start + 45, dtype=np.int64)
        assert engine.array("u", pa.array(values)).to_pylist() == expected("u", values.tolist())
    for words in (["a", "b"], [f"w{i}" for i in range(18)], ["w0", "w1", "x", "y", "z"]):
        out = engine.array("t", pa.array(words)).to_pylist()  # cached and new, over the limit
        assert out == expected("t", list(words))


def test_nulls_and_empty_arrays_keep_their_shape() -> None:
    engine = Pseudonymizer(KEY)
    assert engine.array("u", pa.array([], pa.int64())).to_pylist() == []
    assert engine.array("u", pa.array([None, None], pa.int64())).to_pylist() == [None, None]
    assert engine.array("u", pa.array([None, None], pa.string())).to_pylist() == [None, None]
    assert engine.array("u", pa.array([], pa.string())).to_pylist() == []
    chunked = pa.chunked_array([[1, None], [3]], pa.int64())
    assert engine.array("u", chunked).to_pylist() == expected("u", [1, None, 3])


def test_integers_and_their_text_share_one_pseudonym_in_any_order() -> None:
    engine = Pseudonymizer(KEY)
    as_text = engine.array("user", pa.array(["12", "-3", "0"])).to_pylist()
    as_int = engine.array("user", pa.array([12, -3, 0])).to_pylist()
    assert as_text == as_int == expected("user", [12, -3, 0])


def test_unsupported_types_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot pseudonymize"):
        Pseudonymizer(KEY).array("u", pa.array([1.5]))


def test_distinct_is_sorted_and_unique_on_both_paths() -> None:
    compact = np.array([5, 3, 5, 9, 3], np.int64)
    spread = np.array([10**15, -7, 10**15, 0], np.int64)
    assert distinct(compact).tolist() == [3, 5, 9]
    assert distinct(spread).tolist() == [-7, 0, 10**15]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(st.integers(-50, 400), st.integers(INT64_MIN, INT64_MAX), st.none()),
            max_size=60,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_integer_batches_match_reference(batches: list[list[int | None]]) -> None:
    engine = Pseudonymizer(KEY)
    for values in batches:
        out = engine.array("p", pa.array(values, pa.int64())).to_pylist()
        assert out == expected("p", list(values))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.one_of(st.text(max_size=80), st.none()), max_size=30), max_size=4))
def test_any_text_batches_match_reference(batches: list[list[str | None]]) -> None:
    engine = Pseudonymizer(KEY)
    for values in batches:
        out = engine.array("q", pa.array(values, pa.string())).to_pylist()
        assert out == expected("q", list(values))

"""Each operator on input/expected pairs, plus the pseudonym properties that matter."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from safemirror.policy.model import Action, ColumnPolicy, TablePolicy
from safemirror.transforms.apply import TableTransform
from safemirror.transforms.generalize import bucket, keep_common, truncate
from safemirror.transforms.keep import naive_utc
from safemirror.transforms.pseudonymize import Pseudonymizer
from safemirror.transforms.registry import TransformContext, build

KEY = b"0123456789abcdef0123456789abcdef"
TS = pa.timestamp("us", tz="UTC")


def ts(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("grain", "value", "expected"),
    [
        ("day", ts(2025, 3, 5, 17, 45, 12), datetime(2025, 3, 5)),
        ("hour", ts(2025, 3, 5, 17, 45, 12), datetime(2025, 3, 5, 17)),
        ("week", ts(2025, 3, 5, 17, 45, 12), datetime(2025, 3, 3)),  # Wednesday → Monday
        ("week", ts(2025, 3, 9, 23, 59, 59), datetime(2025, 3, 3)),  # Sunday → Monday
        ("month", ts(2025, 3, 31, 23, 0), datetime(2025, 3, 1)),
        ("year", ts(2025, 7, 1), datetime(2025, 1, 1)),
    ],
)
def test_truncate(grain: str, value: datetime, expected: datetime) -> None:
    out = truncate(pa.array([value, None], TS), grain)
    assert out.type == pa.timestamp("us")
    assert out.to_pylist() == [expected, None]


@pytest.mark.parametrize(
    ("type_", "storage"),
    [(TS, pa.int64()), (pa.timestamp("us"), pa.int64()), (pa.date32(), pa.int32())],
)
def test_truncate_leaves_infinities_as_they_are(type_: pa.DataType, storage: pa.DataType) -> None:
    """``infinity`` and ``-infinity`` are the type's greatest value and its negation (as
    DuckDB has them); flooring them would wrap round to some date BC."""
    greatest = 2 ** (storage.bit_width - 1) - 1
    day = 20_000 * (86_400_000_000 if storage == pa.int64() else 1) + 1_234  # not midnight
    values = pa.array([greatest, -greatest, day, None], storage).view(type_)
    out = truncate(values, "month").view(storage).to_pylist()
    assert out[:2] == [greatest, -greatest] and out[3] is None
    assert out[2] < day and truncate(pa.array([day], storage).view(type_), "month").view(
        storage
    ).to_pylist() == [out[2]]


@pytest.mark.parametrize(
    ("values", "width", "expected", "type_"),
    [
        ([-67, -63, -60, None], 5, [-70, -65, -60, None], pa.int32()),
        ([72.4, 77.5, 80.0], 5, [70.0, 75.0, 80.0], pa.float64()),
        ([1987, 1990, 2003], 10, [1980, 1990, 2000], pa.int32()),
    ],
)
def test_bucket(
    values: list[object], width: float, expected: list[object], type_: pa.DataType
) -> None:
    out = bucket(pa.array(values, type_), width)
    assert out.type == type_
    assert out.to_pylist() == expected


def test_keep_common_replaces_rare_values_and_keeps_nulls() -> None:
    out = keep_common(pa.array(["CA", "NY", "VT", None]), frozenset({"CA", "NY"}), "other")
    assert out.to_pylist() == ["CA", "NY", "other", None]


def test_keep_normalizes_timestamps_to_naive_utc() -> None:
    out = naive_utc(pa.array([ts(2025, 1, 1, 12)], TS))
    assert out.to_pylist() == [datetime(2025, 1, 1, 12)]


def test_pseudonym_is_rfc2104_hmac_sha256() -> None:
    out = Pseudonymizer(KEY).array("user", pa.array([42]))
    digest = hmac.digest(KEY, b"user\x0042", "sha256")
    assert out.to_pylist() == [int.from_bytes(digest[:8], "big", signed=True)]


def test_pseudonyms_join_across_types_and_differ_across_domains_and_keys() -> None:
    engine = Pseudonymizer(KEY)
    as_int = engine.array("user", pa.array([1, 2, 3, None], pa.int64()))
    as_text = engine.array("user", pa.array(["1", "2", "3", None]))
    assert as_int.to_pylist() == as_text.to_pylist()
    assert as_int.null_count == 1
    other_domain = engine.array("device", pa.array([1, 2, 3], pa.int64()))
    assert set(other_domain.to_pylist()).isdisjoint(as_int.to_pylist())
    other_key = Pseudonymizer(b"x" * 32).array("user", pa.array([1, 2, 3], pa.int64()))
    assert set(other_key.to_pylist()).isdisjoint(as_int.to_pylist())


def test_pseudonyms_stable_across_batches_and_cache_state() -> None:
    first = Pseudonymizer(KEY)
    a = first.array("device", pa.array([5, 6, 5, 7], pa.int64())).to_pylist()
    b = first.array("device", pa.array([7, 8, 5], pa.int64())).to_pylist()  # cache warm
    fresh = Pseudonymizer(KEY).array("device", pa.array([7, 8, 5], pa.int64())).to_pylist()
    assert a[0] == a[2] == b[2]
    assert b == fresh
    assert len(set(a[:2] + b[:2])) == 4


def test_pseudonymize_requires_domain_and_generalize_one_method() -> None:
    with pytest.raises(ValueError, match="domain"):
        ColumnPolicy(action=Action.PSEUDONYMIZE)
    with pytest.raises(ValueError, match="exactly one"):
        ColumnPolicy(action=Action.GENERALIZE, truncate="day", bucket=5)


def test_secret_and_drop_have_no_operator() -> None:
    for action in (Action.SECRET, Action.DROP):
        with pytest.raises(AssertionError):
            build("t", "c", ColumnPolicy(action=action), TransformContext(key=KEY))


def test_table_transform_emits_only_mirrored_columns() -> None:
    policy = TablePolicy.model_validate(
        {
            "primary_key": "id",
            "cursor": "updated_at",
            "delete_marker": "deleted_at",
            "columns": {
                "id": {"action": "pseudonymize", "domain": "user"},
                "email": "drop",
                "country": "keep",
                "updated_at": "drop",
                "deleted_at": "drop",
            },
        }
    )
    batch = pa.RecordBatch.from_pydict(
        {
            "id": pa.array([1, 2], pa.int64()),
            "country": ["US", "DE"],
            "updated_at": pa.array([ts(2025, 1, 1), ts(2025, 1, 2)], TS),
            "deleted_at": pa.array([None, ts(2025, 1, 2)], TS),
        }
    )
    out = TableTransform("users", policy, TransformContext(key=KEY))(batch)
    assert out.schema.names == ["id", "country"]
    assert out.column(0).type == pa.int64()
    assert 1 not in out.column(0).to_pylist()


def test_a_decimal_integer_and_text_seven_share_one_pseudonym() -> None:
    from decimal import Decimal

    engine = Pseudonymizer(KEY)
    decimal = engine.array("user", pa.array([Decimal(7), Decimal(-12), None], pa.decimal128(19, 0)))
    assert decimal.type == pa.int64()
    assert decimal.to_pylist() == engine.array("user", pa.array([7, -12, None])).to_pylist()
    assert decimal.to_pylist() == engine.array("user", pa.array(["7", "-12", None])).to_pylist()

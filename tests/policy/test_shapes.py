"""The whole-column shapes ``policy suggest`` reads: birth dates, coordinates, versions."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa

from safemirror.policy.shapes import (
    looks_like_birth_dates,
    looks_like_coordinates,
    looks_like_versions,
)


def test_birth_dates_need_decades_of_past_dates() -> None:
    today = date(2024, 6, 1)
    births = pa.chunked_array([[date(1950 + i, 3, 1) for i in range(50)]])
    assert looks_like_birth_dates(births, today)
    recent = pa.chunked_array([[date(2020, 1, 1) + timedelta(days=i) for i in range(50)]])
    assert not looks_like_birth_dates(recent, today)
    future = pa.chunked_array([[date(1950 + i, 3, 1) for i in range(50)] + [date(2030, 1, 1)]])
    assert not looks_like_birth_dates(future, today)
    assert not looks_like_birth_dates(pa.chunked_array([[date(1960, 1, 1)] * 5]), today)


def test_coordinates_need_four_to_seven_decimals() -> None:
    assert looks_like_coordinates(
        pa.chunked_array([[round(51.5 + i / 7919, 6) for i in range(40)]])
    )
    assert not looks_like_coordinates(pa.chunked_array([[51.5 + i / 7919 for i in range(40)]]))
    assert not looks_like_coordinates(pa.chunked_array([[20.5 + i / 10 for i in range(40)]]))
    assert not looks_like_coordinates(pa.chunked_array([[500.12345 + i for i in range(40)]]))
    assert not looks_like_coordinates(pa.chunked_array([[float(i) for i in range(40)]]))


def test_versions_are_all_version_numbers() -> None:
    assert looks_like_versions(pa.chunked_array([[f"1.{i}.3" for i in range(30)]]))
    assert looks_like_versions(pa.chunked_array([[f"v2.{i}.0-rc1" for i in range(30)]]))
    mixed = [f"1.{i}.3" for i in range(30)] + ["Cam Pro 2"]
    assert not looks_like_versions(pa.chunked_array([mixed]))

"""Every registered detector against its fixture file (one per detector, sqlglot style):
through Python, through pyarrow's RE2 (vectorized) and through DuckDB's RE2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import yaml

from safemirror.policy.detectors import (
    Detector,
    all_detectors,
    detect_column,
    get_detector,
    mirror_detectors,
)

FIXTURES = Path(__file__).parent / "fixtures"
NAMES = [d.name for d in all_detectors()]


def fixture(name: str) -> dict[str, Any]:
    """A fixture file with every scalar read as text (no YAML dates, ints or floats)."""
    return yaml.load(
        (FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader
    )


def vectorized(detector: Detector, values: list[str]) -> list[bool]:
    """pyarrow RE2 for candidates, ``confirm`` on each: what detect_column does."""
    mask = pa.compute.match_substring_regex(pa.array(values, pa.string()), detector.pattern)
    return [bool(m) and detector.confirm(v) for m, v in zip(mask.to_pylist(), values)]


def duckdb_candidates(detector: Detector, values: list[str]) -> list[bool]:
    con = duckdb.connect()
    rows = con.execute(
        "SELECT regexp_matches(v, ?) FROM unnest(?) WITH ORDINALITY AS t(v, i) ORDER BY i",
        [detector.pattern, values],
    ).fetchall()
    return [bool(r[0]) for r in rows]


def test_every_detector_has_a_fixture() -> None:
    files = {p.stem for p in FIXTURES.glob("*.yaml") if not p.stem.startswith("_")}
    assert set(NAMES) == files, "each detector needs fixtures/<name>.yaml, and each file a detector"


def test_the_expected_detectors_are_registered() -> None:
    assert set(NAMES) >= {
        "email",
        "phone",
        "ipv4",
        "ipv6",
        "mac",
        "jwt",
        "high_entropy_token",
        "url_with_credentials",
        "free_text",
        "payment_card",
        "iban",
        "national_id",
        "coordinates",
        "known_secret",
        "person_name",
    }
    mirrored = {d.name for d in mirror_detectors()}
    assert {"payment_card", "iban", "national_id", "coordinates", "known_secret"} <= mirrored
    assert not {"free_text", "person_name"} & mirrored  # judged per column: not over categories


@pytest.mark.parametrize("name", NAMES)
def test_detector_declares_itself(name: str) -> None:
    detector = get_detector(name)
    assert detector.description
    assert detector.suggested_action in {"secret", "drop", "pseudonymize"}
    assert isinstance(detector.scan_mirror, bool)
    for construct in (r"\d", r"\s", r"\b", "(?=", "(?!", "(?<"):
        assert construct not in detector.pattern, f"{construct} differs between RE2 and re"


@pytest.mark.parametrize("name", NAMES)
def test_detector_fixture(name: str) -> None:
    detector, cases = get_detector(name), fixture(name)
    good, bad = cases["must_match"], cases["must_not_match"]
    assert len(good) >= 3 and len(bad) >= 3
    assert [v for v in good if not detector.matches(v)] == []
    assert [v for v, hit in zip(good, vectorized(detector, good)) if not hit] == []
    assert [v for v in bad if detector.matches(v)] == []
    assert [v for v, hit in zip(bad, vectorized(detector, bad)) if hit] == []
    # DuckDB (verify's engine) finds exactly the candidates pyarrow and Python find
    values = good + bad
    python = [detector.regex.search(v) is not None for v in values]
    assert duckdb_candidates(detector, values) == python
    arrow = pa.compute.match_substring_regex(pa.array(values), detector.pattern).to_pylist()
    assert arrow == python


@pytest.mark.parametrize("name", [d.name for d in mirror_detectors()])
def test_kept_analytics_values_are_clean(name: str) -> None:
    values = fixture("_analytics_values")["values"]
    detector = get_detector(name)
    assert [v for v in values if detector.matches(v)] == []
    assert detector.count(pa.array(values)) == 0


def test_detect_column_reports_fractions() -> None:
    emails = [f"user{i}@example.com" for i in range(97)] + ["n/a", None, "none", "x"]
    hits = detect_column(pa.chunked_array([emails[:50], emails[50:]]))
    assert hits[0].detector == "email"
    assert hits[0].fraction == pytest.approx(0.97)
    assert hits[0].scanned == 100


def test_detect_column_caps_confirmations_and_extrapolates() -> None:
    values = pa.array([f"10.0.{i % 250}.{i % 200}" for i in range(10_000)] + ["ok"] * 10_000)
    (hit,) = [h for h in detect_column(values, cap=100) if h.detector == "ipv4"]
    assert hit.fraction == pytest.approx(0.5)


def test_detect_column_ignores_non_text() -> None:
    assert detect_column(pa.array([1, 2, 3])) == []
    assert detect_column(pa.array([None, None], pa.string())) == []


def test_free_text_is_judged_per_column() -> None:
    model = "Video Doorbell Pro 2nd Gen"
    assert get_detector("free_text").matches(model)
    assert detect_column(pa.array([model, "Smart Bulb Color E27 Kit"] * 500)) == []
    notes = [f"left the porch light on for visitor number {i} tonight" for i in range(200)]
    assert [h.detector for h in detect_column(pa.array(notes))] == ["free_text"]


def test_a_column_of_digit_ids_is_not_card_numbers() -> None:
    ids = [f"4{n:015d}" for n in range(1_000_000, 1_000_300)]  # a tenth pass Luhn by chance
    assert any(get_detector("payment_card").matches(v) for v in ids)
    assert get_detector("payment_card").count(pa.array(ids)) == 0
    assert "payment_card" not in {h.detector for h in detect_column(pa.array(ids))}
    cards = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"] * 10
    assert get_detector("payment_card").count(pa.array(ids[:10] + cards)) > 0


def test_people_s_names_are_judged_per_column() -> None:
    assert get_detector("person_name").matches("Charlotte")  # a city too
    towns = ["Charlotte", "Berlin", "Paris", "Madrid", "Rome", "Toronto", "Seattle", "Lyon"]
    assert detect_column(pa.array(towns * 50)) == []
    names = ["Amelia Schmidt", "Noah Nguyen", "Liam Rossi", "Sofia Patel", "Omar Tanaka"]
    assert [h.detector for h in detect_column(pa.array(names * 20))] == ["person_name"]


def test_count_counts_matching_values() -> None:
    values = pa.array(["ok", "failed", "192.168.0.1", "10.1.1.1", "2.14.3", None])
    assert get_detector("ipv4").count(values) == 2
    assert get_detector("ipv4").count(pa.array([], pa.string())) == 0


def test_a_column_of_build_numbers_is_not_ipv4() -> None:
    builds = [
        f"{m}.{n}.{p}.{b}"
        for m in (1, 3, 4)
        for n in (2, 9, 36)
        for p in (5, 8)
        for b in (147, 711, 960, 2910, 3714, 5100, 8639)
    ]
    assert get_detector("ipv4").matches("1.4.6.147")  # alone it could be an address
    assert detect_column(pa.array(builds * 10)) == []
    assert get_detector("ipv4").count(pa.array(builds)) == 0
    addresses = [f"10.{i % 250}.{i % 199}.{i % 97}" for i in range(500)]
    assert get_detector("ipv4").count(pa.array(addresses + builds[:10])) > 0

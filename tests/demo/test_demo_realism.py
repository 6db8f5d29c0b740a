"""Realism: the metrics safemirror serves mean something on the generated data."""

from __future__ import annotations

import base64
import ipaddress
import itertools
import json
import re
import statistics

from safemirror.demo.devices import firmware
from tests.demo.demo_support import rows, value


def test_failure_rates_differ_by_firmware(sqlite_db: str) -> None:
    by_version = rows(
        sqlite_db,
        "SELECT d.model, d.firmware_version, COUNT(*), AVG(e.outcome <> 'ok') "
        "FROM connection_events e JOIN devices d ON d.id = e.device_id "
        "GROUP BY 1, 2 HAVING COUNT(*) >= 500",
    )
    fw = firmware()
    bad = {fw.version[i] for i in range(len(fw.version)) if fw.bad[i]}
    bad_rates = [rate for _, version, _, rate in by_version if version in bad]
    good_rates = [rate for _, version, _, rate in by_version if version not in bad]
    assert len(bad_rates) >= 3 and len(good_rates) >= 20
    # a few firmware versions are clearly worse than the typical one
    assert min(bad_rates) > 2 * statistics.median(good_rates)
    by_model = dict(
        rows(
            sqlite_db,
            "SELECT d.model, AVG(e.outcome <> 'ok') FROM connection_events e "
            "JOIN devices d ON d.id = e.device_id GROUP BY 1",
        )
    )
    assert max(by_model.values()) > 2 * min(by_model.values())
    outcomes = dict(rows(sqlite_db, "SELECT outcome, COUNT(*) FROM connection_events GROUP BY 1"))
    assert set(outcomes) == {"ok", "failed", "timeout"}
    assert outcomes["ok"] > 0.85 * sum(outcomes.values())
    assert (
        value(
            sqlite_db,
            "SELECT COUNT(*) FROM connection_events WHERE (outcome = 'ok') <> (error_code IS NULL)",
        )
        == 0
    )


def test_signups_grow_over_the_years(sqlite_db: str) -> None:
    per_year = rows(
        sqlite_db,
        "SELECT substr(created_at, 1, 4), COUNT(*) FROM users "
        "WHERE created_at < '2026-01-01' GROUP BY 1 ORDER BY 1",
    )
    years = [y for y, _ in per_year]
    counts = [n for _, n in per_year]
    assert years[0] == "2018" and years[-1] == "2025"
    full_years = counts[1:]  # 2018 started in September
    assert all(b > 1.2 * a for a, b in itertools.pairwise(full_years))


def test_devices_per_user_is_skewed(sqlite_db: str) -> None:
    counts = [n for (n,) in rows(sqlite_db, "SELECT COUNT(*) FROM devices GROUP BY user_id")]
    users = value(sqlite_db, "SELECT COUNT(*) FROM users")
    owning = len(counts)
    assert 0.9 * users < owning < users  # a few users own nothing
    one_to_three = sum(1 for n in counts if n <= 3) / owning
    assert one_to_three > 0.65
    assert statistics.mode(counts) == 1
    assert sum(1 for n in counts if n >= 10) > 0.005 * owning  # the long tail
    assert max(counts) >= 15
    assert statistics.mean(counts) > statistics.median(counts)
    # activation follows signup: the first device within days for most users
    quick = value(
        sqlite_db,
        "SELECT AVG(julianday(first) - julianday(u.created_at) < 7) FROM users u JOIN "
        "(SELECT user_id, MIN(activated_at) AS first FROM devices GROUP BY 1) d "
        "ON d.user_id = u.id",
    )
    assert quick > 0.8


def test_countries_mostly_us_with_states(sqlite_db: str) -> None:
    share = dict(
        rows(
            sqlite_db,
            "SELECT country, 1.0 * COUNT(*) / (SELECT COUNT(*) FROM users) FROM users GROUP BY 1",
        )
    )
    assert 0.55 < share["US"] < 0.7
    assert share["CA"] > 0.04 and share["GB"] > 0.03 and share["DE"] > 0.03 and share["FR"] > 0.02
    assert len(share) >= 15
    assert (
        value(sqlite_db, "SELECT COUNT(*) FROM users WHERE country = 'US' AND region IS NULL") == 0
    )
    states = {
        r for (r,) in rows(sqlite_db, "SELECT DISTINCT region FROM users WHERE country = 'US'")
    }
    assert {"CA", "TX", "NY", "FL"} <= states and len(states) > 40
    ca_tz = rows(
        sqlite_db, "SELECT DISTINCT timezone FROM users WHERE region = 'CA' AND country = 'US'"
    )
    assert ca_tz == [("America/Los_Angeles",)]


def test_identifiers_look_real(sqlite_db: str) -> None:
    emails = [e for (e,) in rows(sqlite_db, "SELECT email FROM users LIMIT 2000")]
    assert all(re.fullmatch(r"[a-z]+[._]?[a-z]+\d*@[a-z0-9.-]+\.[a-z]{2,}", e) for e in emails)
    assert sum(e.endswith("@gmail.com") for e in emails) > 0.3 * len(emails)
    macs = [m for (m,) in rows(sqlite_db, "SELECT mac FROM devices LIMIT 2000")]
    assert all(re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", m) for m in macs)
    for (ip,) in rows(
        sqlite_db, "SELECT local_ip FROM devices WHERE local_ip IS NOT NULL LIMIT 2000"
    ):
        assert ipaddress.ip_address(ip).is_private
    for (ip,) in rows(sqlite_db, "SELECT DISTINCT client_ip FROM connection_events LIMIT 2000"):
        assert ipaddress.ip_address(ip).is_global, ip
    nicknames = {n for (n,) in rows(sqlite_db, "SELECT DISTINCT nickname FROM devices")}
    assert {"Front Door", "Baby's Room", "Nursery", "Backyard"} <= nicknames
    assert any(
        re.fullmatch(r"[A-Z][a-z]+'s (Room|Crib|Nursery|Bedroom)", n or "") for n in nicknames
    )
    ssids = {s for (s,) in rows(sqlite_db, "SELECT DISTINCT wifi_ssid FROM devices")}
    assert any(re.fullmatch(r"NETGEAR\d\d", s or "") for s in ssids)
    assert any(re.fullmatch(r"The [A-Z][a-z]+ Family", s or "") for s in ssids)


def test_tokens_look_real(sqlite_db: str) -> None:
    for platform, token, user_id in rows(
        sqlite_db, "SELECT platform, access_token, user_id FROM api_tokens LIMIT 3000"
    ):
        if platform == "web":
            header, payload, signature = token.split(".")
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            assert json.loads(base64.urlsafe_b64decode(header)) == {"alg": "HS256", "typ": "JWT"}
            assert int(claims["sub"]) == user_id and claims["exp"] > claims["iat"]
            assert re.fullmatch(r"[A-Za-z0-9_-]{44}", signature)
        else:
            assert re.fullmatch(r"[A-Za-z0-9_-]{44}", token)
    prefixes = dict(
        rows(
            sqlite_db,
            "SELECT provider, MIN(substr(access_token, 1, 5)) FROM integrations GROUP BY 1",
        )
    )
    assert prefixes["alexa"] == "Atza|" and prefixes["google_assistant"] == "ya29."
    platforms = dict(rows(sqlite_db, "SELECT platform, COUNT(*) FROM api_tokens GROUP BY 1"))
    assert set(platforms) == {"ios", "android", "web"}

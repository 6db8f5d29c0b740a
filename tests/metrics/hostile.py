"""Attacker-chosen category values: devices report their own model and firmware, users
pick their country. ``make_hostile`` spreads such values over a test mirror's users, so
each one is held by many people and survives small-cell suppression."""

from __future__ import annotations

from pathlib import Path

import duckdb

SCRIPT_VALUES = [  # each would set window.__pwned if a page ever ran it
    '<img src=x onerror="window.__pwned=1">',
    "</script><script>window.__pwned=2</script>",
    '"><svg onload="window.__pwned=3">',
    "javascript:window.__pwned=4",
]
PROTOTYPE_NAMES = ["__proto__", "constructor", "toString"]
FORMULAS = ['=HYPERLINK("http://evil.example/","x")', "+1+1", "-2+3", "@SUM(1)"]
LONG = "L" * 3000
RTL = "\u202eX"  # a right-to-left override that is never closed


def make_hostile(mirror: Path, values: list[str]) -> None:
    """Give every user's devices the model and firmware ``values[i]``, and the user the
    country ``values[i]``, ``i`` from the user's pseudonym."""
    con = duckdb.connect(str(mirror))
    try:
        n = len(values)
        pick = f"list_extract($values, ((user_id % {n}) + {n}) % {n} + 1)"
        con.execute(
            f"UPDATE devices SET model = {pick}, firmware_version = {pick}", {"values": values}
        )
        con.execute(
            f"UPDATE users SET country = {pick.replace('user_id', 'id')}", {"values": values}
        )
    finally:
        con.close()

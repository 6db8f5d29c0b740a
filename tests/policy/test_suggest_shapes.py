"""``policy suggest`` on columns whose names give nothing away: names, birth dates,
coordinates, genders, versions, keys named as another table's key; and the harmless
columns beside them, which stay kept."""

from __future__ import annotations

import random
import sqlite3
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from safemirror.policy.model import Action, Policy
from tests.policy.drafts import draft_of

GIVEN = ["Amelia", "Noah", "Olivia", "Liam", "Sofia", "Lukas", "Hannah", "Yuki", "Omar", "Zoe"]
FAMILY = ["Schmidt", "Nguyen", "García", "O'Brien", "Rossi", "Kowalski", "Tanaka", "Patel"]


def _rows(n: int) -> list[tuple[Any, ...]]:
    rng = random.Random(3)
    rows = []
    for i in range(n):
        first, last = rng.choice(GIVEN), rng.choice(FAMILY)
        born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 55))
        joined = date(2024, 1, 1) + timedelta(days=rng.randint(0, 150))
        rows.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128))),
                first,
                last,
                f"{first.upper()} {last.upper()}",
                born.isoformat(),
                joined.isoformat(),
                round(51.5 + rng.uniform(-0.2, 0.2), 6),
                round(-0.12 + rng.uniform(-0.2, 0.2), 6),
                round(rng.uniform(18, 42), 2),
                rng.choice(["female", "male", "nonbinary"]),
                f"{rng.randint(1, 4)}.{rng.randint(0, 12)}.{rng.randint(0, 30)}",
                rng.choice(["GB", "DE", "FR", "US"]),
                rng.choice(["online", "offline", "updating"]),
                rng.choice(["SKU-CAM-0042", "SKU-PLG-0007"]),
                rng.random() < 0.5,
                rng.randint(0, 500),
            )
        )
    return rows


@pytest.fixture(scope="module")
def draft(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Policy]:
    path = tmp_path_factory.mktemp("shapes") / "prod.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE members (member_key TEXT PRIMARY KEY, given TEXT, family TEXT, "
        "holder TEXT, d1 DATE, joined DATE, ya REAL, xa REAL, temp_c REAL, sx TEXT, "
        "fw TEXT, cc TEXT, state TEXT, sku TEXT, paired BOOLEAN, n INTEGER)"
    )
    rows = _rows(300)
    db.executemany(f"INSERT INTO members VALUES ({', '.join('?' * 16)})", rows)
    db.execute("CREATE TABLE hubs (id INTEGER PRIMARY KEY, member_key TEXT, gender TEXT)")
    db.executemany(
        "INSERT INTO hubs VALUES (?, ?, ?)",
        [(i, row[0], row[9]) for i, row in enumerate(rows)],
    )
    db.commit()
    db.close()
    text, policy, _ = draft_of(f"sqlite:///{path}")
    return text, policy


def spec(policy: Policy, table: str, column: str) -> tuple[str, dict[str, Any]]:
    found = policy.tables[table].columns[column]
    return found.action.value, found.model_dump(
        exclude_none=True, exclude={"action", "other", "type"}
    )


def test_people_s_names_are_dropped_whatever_the_column_is_called(
    draft: tuple[str, Policy],
) -> None:
    text, policy = draft
    for column in ("given", "family", "holder"):
        assert spec(policy, "members", column)[0] == "drop", column
    assert "look like people's names" in text


def test_birth_dates_are_kept_by_the_year_and_other_dates_by_the_day(
    draft: tuple[str, Policy],
) -> None:
    text, policy = draft
    assert spec(policy, "members", "d1") == ("generalize", {"truncate": "year"})
    assert spec(policy, "members", "joined") == ("generalize", {"truncate": "day"})
    assert "birth dates, kept by the year" in text


def test_coordinates_as_numbers_are_dropped_measurements_kept(
    draft: tuple[str, Policy],
) -> None:
    _, policy = draft
    assert spec(policy, "members", "ya")[0] == "drop"
    assert spec(policy, "members", "xa")[0] == "drop"
    assert spec(policy, "members", "temp_c")[0] == "keep"


def test_a_gender_hides_its_rare_values(draft: tuple[str, Policy]) -> None:
    _, policy = draft
    assert spec(policy, "hubs", "gender") == ("generalize", {"min_count": 10})


def test_versions_keep_their_common_values(draft: tuple[str, Policy]) -> None:
    _, policy = draft
    assert spec(policy, "members", "fw") == ("generalize", {"min_count": 10})


def test_a_column_named_as_another_table_s_key_joins_it(draft: tuple[str, Policy]) -> None:
    text, policy = draft
    assert spec(policy, "members", "member_key") == ("pseudonymize", {"domain": "member"})
    assert spec(policy, "hubs", "member_key") == ("pseudonymize", {"domain": "member"})
    assert "references members.member_key (named as its key; no foreign key declared)" in text


def test_harmless_columns_stay_kept(draft: tuple[str, Policy]) -> None:
    _, policy = draft
    for column in ("cc", "state", "sku", "paired", "n"):
        assert policy.tables["members"].columns[column].action is Action.KEEP, column

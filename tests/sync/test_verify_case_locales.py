"""verify catches a sensitive value copied into the mirror in any case, whatever the
language: Turkish dotted and dotless i, Greek final sigma, German sharp s, and whatever
collation the production column or database lowers it in."""

from __future__ import annotations

import copy
from collections.abc import Callable

import psycopg
import pytest

from safemirror.config import ProjectConfig
from safemirror.errors import LeakError
from safemirror.sources.folding import fold_str
from safemirror.sources.postgres import PostgresSource
from safemirror.sync.run import run_sync
from tests.conftest import require
from tests.sync.tiny import TINY_POLICY, TINY_SCHEMA, TinyProduction, stamp

MakeProject = Callable[..., ProjectConfig]
LEAK = r"devices\.model.*devices\.nickname"

# (the production nickname, the same name in the mirror's kept model column)
COPIES = [
    ("ILKER KAYA", "ILKER KAYA"),  # exact
    ("ILKER KAYA", "ılker kaya"),  # Turkish lower case
    ("İPEK", "ipek"),
    ("ipek", "İPEK"),
    ("ΟΔΟΣ ΑΘΗΝΑΣ", "ΟΔΟΣ ΑΘΗΝΑΣ"),
    ("ΟΔΟΣ ΑΘΗΝΑΣ", "οδος αθηνας"),  # final sigma
    ("οδος αθηνας", "ΟΔΟΣ ΑΘΗΝΑΣ"),
    ("STRASSE", "straße"),
    ("Élodie", "ÉLODIE"),
]


def test_the_fold_is_one_for_every_case_of_a_name() -> None:
    for production, mirrored in COPIES:
        assert fold_str(production) == fold_str(mirrored)
    assert fold_str("Ilker") != fold_str("Elker")


@pytest.mark.parametrize(("production", "mirrored"), COPIES)
def test_sqlite_copies_in_any_case_are_caught(
    tiny: TinyProduction, make_project: MakeProject, production: str, mirrored: str
) -> None:
    tiny.execute(
        f"UPDATE devices SET nickname = '{production}', model = '{mirrored}' WHERE id = 101"
    )
    project = make_project(f"sqlite:///{tiny.path}", copy.deepcopy(TINY_POLICY))
    with pytest.raises(LeakError, match=LEAK):
        run_sync(project)


def require_collation(url: str, collation: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_collation WHERE collname = %s", (collation,))
        present = collation == "default" or found.fetchone() is not None
    require(present, f"this PostgreSQL has no collation {collation!r} (built without ICU)")


def _postgres_production(url: str, collation: str, pairs: list[tuple[str, str]]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(TINY_SCHEMA)
        conn.execute(f'ALTER TABLE devices ALTER COLUMN nickname TYPE text COLLATE "{collation}"')
        conn.execute(
            "INSERT INTO users VALUES (1, 'a@example.org', 'US', %s, %s, NULL)", (stamp(1),) * 2
        )
        for i, (production, mirrored) in enumerate(pairs):
            conn.execute(
                "INSERT INTO devices VALUES (%s, 1, %s, %s, %s, NULL)",
                (100 + i, production, mirrored, stamp(2)),
            )


@pytest.mark.postgres
def test_postgres_exact_copy_of_a_turkish_value_is_caught(
    pg_url: str, make_project: MakeProject
) -> None:
    require_collation(pg_url, "tr-x-icu")  # Turkish lower case: 'ILKER' -> 'ılker'
    _postgres_production(pg_url, "tr-x-icu", [("ILKER KAYA", "ILKER KAYA")])
    project = make_project(pg_url, copy.deepcopy(TINY_POLICY))
    with pytest.raises(LeakError, match=LEAK):
        run_sync(project)


@pytest.mark.postgres
@pytest.mark.parametrize("collation", ["tr-x-icu", "und-x-icu", "el-x-icu", "C", "default"])
def test_postgres_matches_every_case_in_any_collation(pg_url: str, collation: str) -> None:
    require_collation(pg_url, collation)
    _postgres_production(pg_url, collation, COPIES)
    with PostgresSource(pg_url) as src:
        for production, mirrored in COPIES:
            folded = fold_str(mirrored)
            assert src.matching("devices", "nickname", [folded]) == [folded], production
        assert src._collation  # folded in the server, not streamed
        src._collation = ""  # a server without a collation that folds so: Arrow folds
        for _, mirrored in COPIES:
            folded = fold_str(mirrored)
            assert src.matching("devices", "nickname", [folded]) == [folded]

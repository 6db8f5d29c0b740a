"""``generalize: min_count`` through full and incremental runs: no shown category ever
singles out fewer rows of the mirror than its minimum."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from safemirror.config import ProjectConfig
from safemirror.mirror.textcounts import count_columns, load
from safemirror.sources.sqlite import SqliteSource
from safemirror.sync.run import run_sync
from tests.sync.tiny import TINY_POLICY, TinyProduction, stamp

MakeProject = Callable[..., ProjectConfig]
MIN_COUNT = 5  # the tiny production: 14 users in US, 6 in DE


def _policy() -> dict[str, Any]:
    policy = copy.deepcopy(TINY_POLICY)
    policy["tables"]["users"]["columns"]["country"] = {
        "action": "generalize",
        "min_count": MIN_COUNT,
        "type": "text",
    }
    return policy


@pytest.fixture
def project(tiny: TinyProduction, make_project: MakeProject) -> ProjectConfig:
    return make_project(f"sqlite:///{tiny.path}", _policy())


def countries(config: ProjectConfig) -> dict[str, int]:
    con = duckdb.connect(str(config.mirror), read_only=True)
    try:
        found = con.execute("SELECT country, count(*) FROM users GROUP BY 1").fetchall()
        stored = load(con, ["_sm_text_counts"])["users"]["country"].to_pylist()
        recount = count_columns(con, "users", ["country"])["country"].to_pylist()
    finally:
        con.close()
    # the running counts verify relies on follow every change made to the column
    assert sorted(stored, key=str) == sorted(recount, key=str)
    return {str(country): int(n) for country, n in found}


def add_user(tiny: TinyProduction, user_id: int, country: str, day: int = 20) -> None:
    tiny.execute(
        "INSERT INTO users VALUES (?, ?, ?, ?, ?, NULL)",
        (user_id, f"p{user_id}@example.org", country, stamp(day), stamp(day)),
    )


def test_full_run_keeps_the_categories_common_on_the_source(project: ProjectConfig) -> None:
    run_sync(project)
    assert countries(project) == {"US": 14, "DE": 6}


def test_incremental_run_takes_the_categories_from_the_mirror(
    project: ProjectConfig, tiny: TinyProduction, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sync(project)

    def no_scan(*_: object) -> list[object]:
        raise AssertionError("an incremental run counted categories on the source")

    monkeypatch.setattr(SqliteSource, "value_counts", no_scan)
    add_user(tiny, 21, "US")
    add_user(tiny, 22, "FR")  # never shown yet: stays hidden
    result = run_sync(project)
    assert result.manifest.mode == "incremental"
    assert countries(project) == {"US": 15, "DE": 6, "other": 1}


def test_a_category_that_falls_below_its_minimum_is_hidden_everywhere(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    run_sync(project)
    for user_id in (3, 6):  # DE: 6 -> 4 rows left in the mirror
        tiny.execute(
            "UPDATE users SET deleted_at = ?, updated_at = ? WHERE id = ?",
            (stamp(20), stamp(20), user_id),
        )
    result = run_sync(project)
    assert result.verify.ok
    assert countries(project) == {"US": 14, "other": 4}


def test_source_rows_that_never_reach_the_mirror_do_not_make_a_category_common(
    tiny: TinyProduction, make_project: MakeProject
) -> None:
    for user_id in (3, 6):  # soft-deleted before the first run: counted on the source only
        tiny.execute("UPDATE users SET deleted_at = ? WHERE id = ?", (stamp(10), user_id))
    project = make_project(f"sqlite:///{tiny.path}", _policy())
    run_sync(project)
    assert countries(project) == {"US": 14, "other": 4}


def test_a_category_that_grows_common_is_shown_from_the_next_full_run(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    run_sync(project)
    for user_id in range(21, 21 + MIN_COUNT):
        add_user(tiny, user_id, "FR")
    run_sync(project)
    assert countries(project) == {"US": 14, "DE": 6, "other": MIN_COUNT}
    run_sync(project, full=True)
    assert countries(project) == {"US": 14, "DE": 6, "FR": MIN_COUNT}

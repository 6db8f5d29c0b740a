"""The running text-value counts verify relies on: exact after every kind of change."""

from __future__ import annotations

import os
from collections.abc import Callable

import duckdb
import pyarrow as pa
import pytest

from safemirror.config import ProjectConfig
from safemirror.errors import LeakError
from safemirror.mirror import textcounts
from safemirror.mirror.seal import is_sealed, write_seal
from safemirror.mirror.workspace import MirrorWorkspace
from safemirror.sync import run as sync_run
from safemirror.sync.run import run_sync
from tests.sync.tiny import TinyProduction, file_digest, stamp

MakeProject = Callable[..., ProjectConfig]


@pytest.fixture
def project(tiny: TinyProduction, make_project: MakeProject) -> ProjectConfig:
    return make_project(f"sqlite:///{tiny.path}")


Listed = dict[str, dict[str, list[tuple[str, int]]]]


def stored_and_fresh(config: ProjectConfig) -> tuple[Listed, Listed]:
    """The stored counts and a fresh count of every text column, as comparable dicts."""
    con = duckdb.connect(str(config.mirror), read_only=True)
    try:

        def as_dict(counts: textcounts.Counts) -> dict[str, list[tuple[str, int]]]:
            return {c: sorted(zip(*t.to_pydict().values(), strict=True)) for c, t in counts.items()}

        stored = {t: as_dict(c) for t, c in textcounts.load(con, ["_sm_text_counts"]).items()}
        fresh = {
            t: as_dict(textcounts.count_columns(con, f'"{t}"', list(stored[t]))) for t in stored
        }
        return stored, fresh
    finally:
        con.close()


def test_counts_stay_exact_through_inserts_updates_and_deletes(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    run_sync(project)
    stored, fresh = stored_and_fresh(project)
    assert stored == fresh and set(stored) == {"users", "devices"}
    assert set(stored["users"]) == {"country"} and set(stored["devices"]) == {"model"}
    tiny.execute(
        "INSERT INTO users VALUES (21, 'new@example.org', 'FR', ?, ?, NULL)", (stamp(20), stamp(20))
    )
    tiny.execute("UPDATE users SET country = 'CA', updated_at = ? WHERE id = 2", (stamp(20),))
    tiny.execute("UPDATE users SET country = NULL, updated_at = ? WHERE id = 4", (stamp(20),))
    tiny.execute(
        "UPDATE users SET deleted_at = ?, updated_at = ? WHERE id = 3", (stamp(20), stamp(20))
    )
    tiny.execute("UPDATE devices SET model = 'hub-x', updated_at = ? WHERE id = 101", (stamp(20),))
    run_sync(project)
    stored, fresh = stored_and_fresh(project)
    assert stored == fresh
    assert any(v == "CA" for v, _ in stored["users"]["country"])
    run_sync(project)  # nothing changed: the same counts
    assert stored_and_fresh(project)[0] == stored


def test_counts_that_drifted_are_recounted(project: ProjectConfig, tiny: TinyProduction) -> None:
    run_sync(project)
    con = duckdb.connect(str(project.mirror))
    con.execute("UPDATE _sm_text_counts SET n = n + 5 WHERE table_name = 'users'")
    con.close()
    tiny.execute("UPDATE users SET country = 'CA', updated_at = ? WHERE id = 2", (stamp(20),))
    run_sync(project)
    stored, fresh = stored_and_fresh(project)
    assert stored == fresh


def test_a_sealed_mirror_is_trusted_and_checked_on_compacting_runs(
    project: ProjectConfig, tiny: TinyProduction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_run, "COMPACT_EVERY", 2)
    run_sync(project)  # full
    con = duckdb.connect(str(project.mirror))
    con.execute("UPDATE _sm_text_counts SET n = n + 5 WHERE table_name = 'users'")
    con.close()
    write_seal(project.mirror)  # as if the drift had been published by a sync
    tiny.execute("UPDATE users SET country = 'CA', updated_at = ? WHERE id = 2", (stamp(20),))
    result = run_sync(project)  # the first incremental run after the full one
    assert result.tables["users"].non_null is None  # not counted: trusted
    stored, fresh = stored_and_fresh(project)
    assert stored["users"] != fresh["users"]
    assert is_sealed(project.mirror)
    tiny.execute("UPDATE users SET country = 'FR', updated_at = ? WHERE id = 2", (stamp(21),))
    result = run_sync(project)  # the second one compacts, and checks
    assert result.tables["users"].non_null is not None
    stored, fresh = stored_and_fresh(project)
    assert stored == fresh


def test_a_mirror_written_while_it_is_copied_is_not_trusted(
    project: ProjectConfig, tiny: TinyProduction, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sync(project)
    assert is_sealed(project.mirror)
    copy_live = MirrorWorkspace._copy_live

    def copy_then_touch(self: MirrorWorkspace) -> None:
        copy_live(self)
        os.chmod(self.target, 0o600)  # as any write would, this moves the change time

    monkeypatch.setattr(MirrorWorkspace, "_copy_live", copy_then_touch)
    tiny.execute("UPDATE users SET country = 'CA', updated_at = ? WHERE id = 2", (stamp(20),))
    result = run_sync(project)
    assert result.tables["users"].non_null is not None  # checked, not trusted


def test_an_incremental_change_that_leaks_is_caught(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    run_sync(project)
    digest = file_digest(project.mirror)
    tiny.execute(  # a device model now holds a user's email, in one changed row only
        "UPDATE devices SET model = (SELECT email FROM users WHERE id = 1), updated_at = ? "
        "WHERE id = 101",
        (stamp(20),),
    )
    with pytest.raises(LeakError, match=r"devices\.model"):
        run_sync(project)
    assert file_digest(project.mirror) == digest


def test_adjust_adds_removes_and_refuses_negative_counts() -> None:
    def counts(pairs: list[tuple[str, int]]) -> pa.Table:
        return pa.table(
            {"v": [v for v, _ in pairs], "n": [n for _, n in pairs]}, schema=textcounts.COUNTED
        )

    old = {"c": counts([("a", 3), ("b", 1)])}
    out = textcounts.adjust(old, {"c": counts([("a", 1), ("z", 2)])}, {"c": counts([("b", 1)])})
    assert out is not None
    assert sorted(zip(*out["c"].to_pydict().values(), strict=True)) == [("a", 4), ("z", 2)]
    assert textcounts.adjust(old, {}, {"c": counts([("b", 2)])}) is None
    assert textcounts.adjust(old, {}, {"c": counts([("q", 1)])}) is None
    # a column nothing was written to or removed from keeps its counts as they were
    same = textcounts.adjust(old, {"c": counts([])}, {})
    assert same is not None and same["c"].equals(old["c"])

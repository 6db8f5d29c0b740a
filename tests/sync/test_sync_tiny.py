"""The sync on a tiny SQLite production: actions, incremental changes, history, fail-closed."""

from __future__ import annotations

import copy
import errno
import os
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from safemirror.audit import AuditLog
from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode, KeyMaterialError, LeakError, PolicyError, SourceError
from safemirror.mirror.presence import present_at
from safemirror.sources import sqlite_values
from safemirror.sync import run as run_module
from safemirror.sync.run import run_sync
from tests.sync.tiny import TINY_POLICY, TinyProduction, file_digest, kept_table, rows, stamp

MakeProject = Callable[..., ProjectConfig]


def content(config: ProjectConfig) -> dict[str, list[tuple[object, ...]]]:
    return {
        t: rows(config, f"SELECT * EXCLUDE (_sm_entered_at) FROM {t} ORDER BY ALL")
        for t in ("users", "devices")
    }


@pytest.fixture
def project(tiny: TinyProduction, make_project: MakeProject) -> ProjectConfig:
    return make_project(f"sqlite:///{tiny.path}")


def test_first_sync_applies_every_action(project: ProjectConfig) -> None:
    result = run_sync(project)
    assert result.manifest.mode == "full"
    assert rows(project, "SELECT count(*) FROM users") == [(20,)]
    columns = [
        r[0]
        for r in rows(
            project,
            "SELECT column_name FROM duckdb_columns() "
            "WHERE table_name = 'users' ORDER BY column_index",
        )
    ]
    assert columns == ["id", "country", "created_at", "updated_at", "_sm_entered_at"]
    ids = {r[0] for r in rows(project, "SELECT id FROM users")}
    assert ids.isdisjoint(range(1, 21))
    assert rows(project, "SELECT DISTINCT hour(created_at) FROM users") == [(0,)]
    # joins are preserved: each device's pseudonymous owner is a mirrored user
    assert rows(project, "SELECT count(*) FROM devices d JOIN users u ON d.user_id = u.id") == [
        (20,)
    ]
    assert result.manifest.key_fingerprint and len(result.manifest.policy_hash) == 64


def test_pseudonyms_are_stable_across_runs_and_rebuilds(project: ProjectConfig) -> None:
    run_sync(project)
    first = rows(project, "SELECT id FROM users ORDER BY id")
    run_sync(project, full=True)
    assert rows(project, "SELECT id FROM users ORDER BY id") == first


def test_incremental_inserts_updates_deletes_and_idempotence(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    run_sync(project)
    before = content(project)
    again = run_sync(project)
    assert again.manifest.mode == "incremental"
    assert content(project) == before  # running twice in a row changes nothing
    # the rows at the watermark are read again, and reported as not written
    assert {t: (o.rows_read > 0, o.rows_written) for t, o in again.tables.items()} == {
        "users": (True, 0),
        "devices": (True, 0),
    }

    tiny.execute(
        "INSERT INTO users VALUES (21, 'new@example.org', 'FR', ?, ?, NULL)", (stamp(20), stamp(20))
    )
    tiny.execute("UPDATE users SET country = 'CA', updated_at = ? WHERE id = 2", (stamp(20),))
    tiny.execute(
        "UPDATE users SET deleted_at = ?, updated_at = ? WHERE id = 3", (stamp(20), stamp(20))
    )
    result = run_sync(project)
    assert result.tables["users"].rows_left == 1
    assert result.tables["users"].rows_written == 2  # the new row and the changed one
    countries = rows(project, "SELECT country, count(*) FROM users GROUP BY 1 ORDER BY 1")
    assert ("FR", 1) in countries and ("CA", 1) in countries
    assert rows(project, "SELECT count(*) FROM users") == [(20,)]  # +1 new, -1 deleted
    assert result.tables["users"].rows_read < 20  # only the changed rows were read


def test_a_row_stamped_in_the_future_does_not_hide_later_changes(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    tiny.execute("UPDATE users SET updated_at = '2099-01-01 00:00:00' WHERE id = 7")
    run_sync(project)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    tiny.execute("UPDATE users SET country = 'FR', updated_at = ? WHERE id = 8", (now,))
    result = run_sync(project)
    assert rows(project, "SELECT count(*) FROM users WHERE country = 'FR'") == [(1,)]
    assert result.tables["users"].rows_read == 2  # the change, and the future row again


def test_rows_without_any_cursor_value_are_reported_by_full_reads(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    tiny.execute("UPDATE users SET updated_at = NULL WHERE id IN (2, 5)")
    first = run_sync(project)
    (note,) = first.notes
    assert "table 'users': 2 row(s)" in note and "(updated_at)" in note
    tiny.execute(
        "INSERT INTO users VALUES (50, 'p50@example.org', 'US', ?, NULL, NULL)", (stamp(20),)
    )
    later = run_sync(project)  # incremental: the new row has no cursor value to be found by
    assert later.notes == []
    assert rows(project, "SELECT count(*) FROM users") == [(20,)]  # as the note said
    rebuilt = run_sync(project, full=True)
    assert rows(project, "SELECT count(*) FROM users") == [(21,)]
    assert [n.split(":")[0] for n in rebuilt.notes] == ["table 'users'"]
    assert "3 row(s)" in rebuilt.notes[0]
    assert list(AuditLog(project.audit_log).entries())[-1].data["notes"] == rebuilt.notes


def test_a_mirror_table_dropped_by_hand_is_read_again_in_full(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    tiny.execute("UPDATE devices SET updated_at = printf('2025-01-%02d 12:00:00', 1 + id % 9)")
    run_sync(project)
    before = content(project)
    con = duckdb.connect(str(project.mirror))
    con.execute("DROP TABLE devices")
    con.close()
    tiny.execute("UPDATE users SET country = 'CA', updated_at = ? WHERE id = 2", (stamp(20),))
    result = run_sync(project)
    assert result.tables["devices"].rows_read == len(before["devices"])  # all, not none
    assert content(project)["devices"] == before["devices"]
    assert result.tables["users"].rows_read < len(before["users"])  # still incremental


def test_an_integer_column_of_an_older_mirror_widens_after_a_policy_update(
    tmp_path: Path, make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "prod.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, n INTEGER, updated_at TIMESTAMP)")
        db.execute("INSERT INTO t VALUES (1, 5, ?)", (stamp(1),))
    policy = {
        "version": 1,
        "tables": {"t": kept_table(id="bigint", n="integer", updated_at="timestamp")},
    }
    with monkeypatch.context() as before:  # how INTEGER used to be read: 32-bit
        before.setattr(sqlite_values, "_INT", {*sqlite_values._INT, "INTEGER"})
        before.setattr(sqlite_values, "_BIG", sqlite_values._BIG - {"INTEGER"})
        run_sync(make_project(f"sqlite:///{path}", policy))
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO t VALUES (2, 3000000000, ?)", (stamp(2),))
    digest = file_digest(tmp_path / "mirror.duckdb")
    with pytest.raises(PolicyError, match=r"t\.n"):
        run_sync(make_project(f"sqlite:///{path}", policy))
    assert file_digest(tmp_path / "mirror.duckdb") == digest
    policy["tables"]["t"] = kept_table(id="bigint", n="bigint", updated_at="timestamp")
    project = make_project(f"sqlite:///{path}", policy)
    run_sync(project)
    assert rows(project, "SELECT n FROM t ORDER BY id") == [(5,), (3000000000,)]
    assert rows(
        project,
        "SELECT data_type FROM duckdb_columns() WHERE table_name = 't' AND column_name = 'n'",
    ) == [("BIGINT",)]


def test_history_answers_which_rows_were_present(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    run_sync(project)
    time.sleep(0.05)
    between = datetime.now(UTC).replace(tzinfo=None)
    time.sleep(0.05)
    tiny.execute(
        "UPDATE users SET deleted_at = ?, updated_at = ? WHERE id IN (4, 5)", (stamp(21), stamp(21))
    )
    tiny.execute(
        "INSERT INTO users VALUES (30, 'late@example.org', 'US', ?, ?, NULL)",
        (stamp(21), stamp(21)),
    )
    run_sync(project)
    after = datetime.now(UTC).replace(tzinfo=None)
    con = duckdb.connect(str(project.mirror), read_only=True)
    try:
        then = set(present_at(con, "users", ["id"], between))
        now = set(present_at(con, "users", ["id"], after))
        left = {
            str(r[0])
            for r in con.execute(
                "SELECT row_key FROM _sm_history WHERE table_name = 'users'"
            ).fetchall()
        }
    finally:
        con.close()
    assert len(then) == 20 and len(now) == 19
    assert left == then - now and len(left) == 2
    assert len(now - then) == 1


def test_key_change_is_refused_unless_full(
    project: ProjectConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sync(project)
    digest = file_digest(project.mirror)
    monkeypatch.setenv("OTHER_KEY", "9f2c4e81b07d5a63e1f8c2b94d0a7e56")
    project.key = "env:OTHER_KEY"
    with pytest.raises(KeyMaterialError, match="differs"):
        run_sync(project)
    assert file_digest(project.mirror) == digest
    result = run_sync(project, full=True)
    assert result.tables["users"].rows_left == 20  # every old pseudonym left the mirror


def _policy_with(**changes: object) -> dict[str, object]:
    policy = copy.deepcopy(TINY_POLICY)
    users = policy["tables"]["users"]["columns"]
    for column, spec in changes.items():
        if spec is None:
            users.pop(column)
        else:
            users[column] = spec
    return policy


@pytest.mark.parametrize(
    "case",
    [
        "unclassified column",
        "unclassified table",
        "vanished column",
        "type changed",
        "action does not fit the type",
        "missing key",
        "open key file",
        "key file a directory",
        "placeholder key",
    ],
)
def test_fail_closed_leaves_mirror_byte_for_byte(
    case: str, tiny: TinyProduction, make_project: MakeProject, tmp_path: Path
) -> None:
    project = make_project(f"sqlite:///{tiny.path}")
    run_sync(project)
    digest = file_digest(project.mirror)
    if case == "unclassified column":
        tiny.execute("ALTER TABLE users ADD COLUMN phone TEXT")
    elif case == "unclassified table":
        tiny.execute("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT)")
    elif case == "vanished column":
        project = make_project(
            f"sqlite:///{tiny.path}", _policy_with(nickname={"action": "drop", "type": "text"})
        )
    elif case == "type changed":
        project = make_project(
            f"sqlite:///{tiny.path}", _policy_with(country={"action": "keep", "type": "integer"})
        )
    elif case == "action does not fit the type":  # a text column to truncate like a time
        project = make_project(
            f"sqlite:///{tiny.path}",
            _policy_with(country={"action": "generalize", "truncate": "day"}),
        )
    elif case == "missing key":
        project.key = "env:SAFEMIRROR_TEST_NO_SUCH_KEY"
    elif case == "key file a directory":
        (tmp_path / "keys").mkdir(mode=0o700)
        project.key = f"file:{tmp_path / 'keys'}"
    elif case == "placeholder key":
        Path(project.key.removeprefix("file:")).write_text("changeme" * 5)
    else:
        key_file = Path(project.key.removeprefix("file:"))
        os.chmod(key_file, 0o644)
    expected = KeyMaterialError if "key" in case else PolicyError
    with pytest.raises(expected) as caught:
        run_sync(project)
    assert file_digest(project.mirror) == digest
    if expected is PolicyError:
        assert "users" in str(caught.value) or "notes" in str(caught.value)
    if case == "key file a directory":
        assert "not a regular file" in str(caught.value)
    if case == "placeholder key":
        assert "not random" in str(caught.value) and "changeme" not in str(caught.value)
    failures = [e for e in AuditLog(project.audit_log).entries() if e.kind == "sync.failed"]
    assert len(failures) == 1 and failures[0].data["exit_code"] == caught.value.exit_code


def test_policy_check_reports_a_type_change_the_policy_does_not_pin(
    tiny: TinyProduction, make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    """``policy check`` compares unpinned columns with the schema the last sync read, as
    the sync does: the company's CI hears of the change before the next sync stops on it."""
    project = make_project(f"sqlite:///{tiny.path}", _policy_with(country={"action": "keep"}))
    config = str(project.base_dir / "safemirror.yaml")
    assert run(["policy", "check", "--config", config]) == ExitCode.OK  # no mirror yet
    run_sync(project)
    assert run(["policy", "check", "--config", config]) == ExitCode.OK
    con = duckdb.connect(str(project.mirror))  # as if the last sync had read an integer
    con.execute(
        "UPDATE _sm_runs SET schema_snapshot = "
        'json_merge_patch(schema_snapshot, \'{"users": {"country": "integer"}}\')'
    )
    con.close()
    capsys.readouterr()
    assert run(["policy", "check", "--config", config]) == ExitCode.POLICY
    assert "users.country: type changed" in capsys.readouterr().err.replace("\n", " ")
    with pytest.raises(PolicyError, match=r"users\.country: type changed"):
        run_sync(project)


@pytest.mark.parametrize(
    ("error", "raised", "recorded", "code"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device"),
            SourceError,  # the mirror's files could not be written: said plainly
            "OSError: No space left on device",
            5,
        ),
        (KeyboardInterrupt(), KeyboardInterrupt, "interrupted", 130),
        (
            ValueError("cannot convert 'person3@example.org'"),
            ValueError,
            "unexpected ValueError",
            1,
        ),
    ],
)
def test_every_failed_attempt_is_audited_without_the_values_it_read(
    project: ProjectConfig,
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    raised: type[BaseException],
    recorded: str,
    code: int,
) -> None:
    run_sync(project)
    digest = file_digest(project.mirror)

    def broken(*args: object) -> None:
        raise error

    monkeypatch.setattr(run_module, "_write_tables", broken)
    with pytest.raises(raised) as caught:
        run_sync(project)
    if isinstance(caught.value, SourceError):
        assert caught.value.exit_code == code
    assert file_digest(project.mirror) == digest
    log = AuditLog(project.audit_log)
    (failed,) = [e for e in log.entries() if e.kind == "sync.failed"]
    assert (failed.data["error"], failed.data["exit_code"]) == (recorded, code)
    assert "example.org" not in project.audit_log.read_text()
    assert log.verify().ok


def test_verify_blocks_a_policy_that_keeps_emails(
    tiny: TinyProduction, make_project: MakeProject
) -> None:
    leaky = _policy_with(email={"action": "keep", "type": "text"})
    project = make_project(f"sqlite:///{tiny.path}", leaky)
    with pytest.raises(LeakError) as caught:
        run_sync(project)
    message = str(caught.value)
    assert "users.email" in message and "@example.org" not in message
    assert not project.mirror.exists()  # nothing was published


def test_verify_catches_case_folded_copies(tiny: TinyProduction, make_project: MakeProject) -> None:
    tiny.execute("UPDATE devices SET model = upper(nickname) WHERE id = 101")
    leaky = copy.deepcopy(TINY_POLICY)
    project = make_project(f"sqlite:///{tiny.path}", leaky)
    with pytest.raises(LeakError, match=r"devices\.model.*devices\.nickname"):
        run_sync(project)


def test_audit_log_records_syncs_and_verifies(project: ProjectConfig) -> None:
    run_sync(project)
    run_sync(project)
    log = AuditLog(project.audit_log)
    kinds = [e.kind for e in log.entries()]
    assert kinds == ["sync", "sync"]
    assert log.verify().ok
    text = project.audit_log.read_text()
    assert "example.org" not in text and "mirror.key" not in text


def test_verify_reports_the_columns_it_matched_in_when_every_value_is_a_category(
    project: ProjectConfig, tiny: TinyProduction, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_sync(project).verify  # 'DE' (6 users) is rare; 'US' and the model are common
    assert (first.production_columns, first.matched_values, first.mirror_values) == (2, 1, 3)
    tiny.execute("UPDATE users SET country = 'US', updated_at = ?", (stamp(20),))
    report = run_sync(project).verify
    # Nothing rare is left to match, but the sensitive columns are still those of the policy
    # (users.email, devices.nickname), and the summary says so.
    assert (report.production_columns, report.matched_values, report.mirror_values) == (2, 0, 2)
    capsys.readouterr()
    assert run(["verify", "--config", str(project.base_dir / "safemirror.yaml")]) == ExitCode.OK
    said = " ".join(capsys.readouterr().out.split())
    assert "the 0 of them held by fewer than 11 rows" in said
    assert "2 sensitive production text columns" in said


def test_a_run_its_audit_log_cannot_record_does_not_start(project: ProjectConfig) -> None:
    run_sync(project)
    digest = file_digest(project.mirror)
    with project.audit_log.open("a") as log:
        log.write('{"seq": 9, "ts": "2026-')  # a crash mid-write, say
    config = str(project.mirror.parent / "safemirror.yaml")
    assert run(["sync", "--quiet", "--config", config]) == ExitCode.AUDIT
    assert file_digest(project.mirror) == digest
    assert not [p for p in project.mirror.parent.iterdir() if ".sync-" in p.name]


@pytest.mark.parametrize("full", [False, True])
def test_a_duckdb_database_no_sync_made_is_never_replaced(
    project: ProjectConfig, full: bool
) -> None:
    """The mirror's path names an analyst's own DuckDB file: a sync, even --full, would
    replace it whole. It is refused (exit 9), byte for byte untouched; an empty one is
    taken."""
    con = duckdb.connect(str(project.mirror))
    con.execute("CREATE SCHEMA work")
    con.execute("CREATE TABLE work.answers AS SELECT 42 AS answer")
    con.close()
    digest = file_digest(project.mirror)
    args = ["sync", "--quiet", "--config", str(project.base_dir / "safemirror.yaml")]
    assert run(args + (["--full"] if full else [])) == ExitCode.CONFLICT
    assert file_digest(project.mirror) == digest
    project.mirror.unlink()
    duckdb.connect(str(project.mirror)).close()  # an empty database
    assert run(args) == ExitCode.OK
    assert rows(project, "SELECT count(*) FROM users")[0][0] > 0

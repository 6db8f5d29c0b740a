"""The replaced mirror generation is kept as a spare and reused, never under a reader."""

from __future__ import annotations

import os
import random
import stat
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from safemirror.audit import AuditLog
from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode, SourceError
from safemirror.mirror import workspace
from safemirror.mirror.workspace import MirrorWorkspace, _copy_over
from safemirror.sync import run as run_module
from safemirror.sync.run import run_sync
from tests.sync.tiny import TinyProduction, stamp

MakeProject = Callable[..., ProjectConfig]


@pytest.fixture
def project(tiny: TinyProduction, make_project: MakeProject) -> ProjectConfig:
    return make_project(f"sqlite:///{tiny.path}")


def spare_of(config: ProjectConfig) -> Path:
    return config.mirror.with_name(f".{config.mirror.name}.spare")


def count_users(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM users").fetchall()[0][0])
    finally:
        con.close()


def add_user(tiny: TinyProduction, user_id: int) -> None:
    tiny.execute(
        "INSERT INTO users VALUES (?, ?, 'FR', ?, ?, NULL)",
        (user_id, f"u{user_id}@example.org", stamp(21), stamp(21)),
    )


def test_the_old_generation_becomes_the_next_working_copy(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    run_sync(project)
    assert not spare_of(project).exists()  # nothing was replaced yet
    first = project.mirror.stat().st_ino
    add_user(tiny, 21)
    run_sync(project)
    spare = spare_of(project)
    assert spare.stat().st_ino == first  # the replaced generation, kept
    assert project.mirror.stat().st_nlink == 1 and spare.stat().st_nlink == 1
    assert oct(spare.stat().st_mode & 0o777) == oct(0o600)
    add_user(tiny, 22)
    run_sync(project)
    # the third run worked on the spare's blocks: it is the live mirror now
    assert project.mirror.stat().st_ino == first
    assert count_users(project.mirror) == 22
    leftovers = {p.name for p in project.mirror.parent.iterdir() if ".sync-" in p.name}
    assert not leftovers


def test_a_spare_held_by_a_reader_is_never_overwritten(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    run_sync(project)
    reader = duckdb.connect(str(project.mirror), read_only=True)  # holds generation 1
    try:
        add_user(tiny, 21)
        run_sync(project)  # generation 1 becomes the spare, still open by the reader
        add_user(tiny, 22)
        run_sync(project)  # must not overwrite generation 1 under the reader
        assert reader.execute("SELECT count(*) FROM users").fetchall() == [(20,)]
    finally:
        reader.close()
    assert count_users(project.mirror) == 22


def test_a_spare_linked_to_the_live_mirror_is_not_copied_onto_itself(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    """A run killed between linking the spare and the rename leaves both names on one file."""
    run_sync(project)
    os.link(project.mirror, spare_of(project))
    add_user(tiny, 21)
    run_sync(project)
    assert count_users(project.mirror) == 21
    assert not os.path.samefile(project.mirror, spare_of(project))
    assert count_users(spare_of(project)) == 20


def test_a_failed_run_keeps_the_live_mirror_and_a_usable_spare(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    run_sync(project)
    add_user(tiny, 21)
    run_sync(project)
    with (
        pytest.raises(RuntimeError),
        MirrorWorkspace(project.mirror) as ws,
    ):
        ws.open().execute("DELETE FROM users")
        raise RuntimeError("killed mid-run")
    assert count_users(project.mirror) == 21
    add_user(tiny, 22)
    run_sync(project)
    assert count_users(project.mirror) == 22


def test_a_corrupt_mirror_is_refused_and_left_alone(project: ProjectConfig) -> None:
    project.mirror.write_bytes(b"not a duckdb file" * 100)
    with pytest.raises(SourceError, match="cannot be opened"):
        run_sync(project)
    config = str(project.mirror.parent / "safemirror.yaml")
    assert run(["sync", "--quiet", "--config", config]) == ExitCode.SOURCE
    assert project.mirror.read_bytes() == b"not a duckdb file" * 100
    assert not [p for p in project.mirror.parent.iterdir() if ".sync-" in p.name]


def test_a_full_run_or_new_policy_leaves_no_spare(
    project: ProjectConfig, tiny: TinyProduction, make_project: MakeProject
) -> None:
    """The spare must never keep what a rebuild, a new key or a stricter policy removed."""
    run_sync(project)
    add_user(tiny, 21)
    run_sync(project)
    assert spare_of(project).exists()
    run_sync(project, full=True)
    assert not spare_of(project).exists()

    add_user(tiny, 22)
    run_sync(project)
    assert spare_of(project).exists()
    import copy

    from tests.sync.tiny import TINY_POLICY

    stricter = copy.deepcopy(TINY_POLICY)
    stricter["tables"]["users"]["columns"]["country"] = {"action": "drop", "type": "text"}
    changed = make_project(f"sqlite:///{tiny.path}", stricter)
    run_sync(changed)
    assert not spare_of(changed).exists()


def _bring_up_to_date(tmp_path: Path, spare: bytearray, live: bytearray) -> int:
    """``_copy_over`` of ``live`` onto a file holding ``spare``; checks the result, returns
    the bytes written."""
    (tmp_path / "live").write_bytes(live)
    (tmp_path / "spare").write_bytes(spare)
    fd = os.open(tmp_path / "spare", os.O_RDWR)
    try:
        written = _copy_over(tmp_path / "live", fd)
    finally:
        os.close(fd)
    assert (tmp_path / "spare").read_bytes() == bytes(live)
    return written


@pytest.mark.parametrize(
    ("old_size", "new_size"),
    [(0, 700_000), (700_000, 700_000), (300_000, 900_000), (900_000, 300_001), (500_000, 0)],
)
@pytest.mark.parametrize("window_blocks", [1, 2, 64])
def test_the_spare_is_brought_up_to_date_block_by_block(
    tmp_path: Path,
    old_size: int,
    new_size: int,
    window_blocks: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workspace, "_WINDOW", window_blocks * workspace._BLOCK)
    rng = random.Random(old_size * 7 + new_size)
    live = bytearray(rng.randbytes(new_size))
    spare = bytearray(live[:old_size]) + bytearray(rng.randbytes(max(0, old_size - new_size)))
    if len(spare) > 300_000:
        spare[299_990:300_010] = bytes(20)  # differs across a block boundary (256 KiB)
    written = _bring_up_to_date(tmp_path, spare, live)
    assert written < new_size or old_size == 0 or new_size == 0  # unchanged blocks are skipped


def test_a_full_run_builds_a_fresh_file_and_keeps_the_history(
    project: ProjectConfig, tiny: TinyProduction
) -> None:
    for day in range(1, 4):  # a few generations, so the old file has space to carry over
        add_user(tiny, 100 + day)
        run_sync(project)
    con = duckdb.connect(str(project.mirror), read_only=True)
    try:
        entered = con.execute("SELECT id, _sm_entered_at FROM users ORDER BY id").fetchall()
        runs = int(con.execute("SELECT count(*) FROM _sm_runs").fetchall()[0][0])
    finally:
        con.close()
    tiny.execute(
        "UPDATE users SET deleted_at = ?, updated_at = ? WHERE id = 3", (stamp(22), stamp(22))
    )
    before = project.mirror.stat().st_size
    result = run_sync(project, full=True)
    assert result.tables["users"].rows_left == 1
    con = duckdb.connect(str(project.mirror), read_only=True)
    try:
        after = dict(con.execute("SELECT id, _sm_entered_at FROM users").fetchall())
        left = con.execute("SELECT count(*) FROM _sm_history WHERE table_name = 'users'")
        assert int(left.fetchall()[0][0]) == 1
        assert int(con.execute("SELECT count(*) FROM _sm_runs").fetchall()[0][0]) == runs + 1
    finally:
        con.close()
    assert len(after) == len(entered) - 1  # entry times survive the rebuild
    assert all(after[user] == when for user, when in entered if user in after)
    # no room kept for the replaced generations: the rebuilt file is smaller than the old
    assert project.mirror.stat().st_size < before


def test_the_working_copy_is_the_only_database_every_cursor_sees(
    project: ProjectConfig,
) -> None:
    run_sync(project)
    with MirrorWorkspace(project.mirror) as ws:
        con = ws.open()
        databases = con.execute(
            "SELECT database_name, path FROM duckdb_databases() WHERE NOT internal"
        ).fetchall()
        assert databases == [("_sm_working", str(ws.work))]
        cursor = con.cursor()  # a writer's cursor works on the copy, not on a scratch db
        assert cursor.execute("SELECT count(*) FROM users").fetchall() == [(20,)]
        # no DuckDB progress bar in the middle of the sync's own output, on any cursor
        progress = "SELECT current_setting('enable_progress_bar')"
        assert cursor.execute(progress).fetchall() == [(False,)]
        cursor.close()
        (temp,) = con.execute("SELECT current_setting('temp_directory')").fetchall()[0]
        assert temp == f"{ws.work}.tmp"  # spills beside the copy, removed with it


def test_a_failed_copy_leaves_no_engine_behind(
    project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    run_sync(project)
    before = project.mirror.read_bytes()

    def broken(*args: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(MirrorWorkspace, "_copy_live", broken)
    with pytest.raises(OSError, match="No space"), MirrorWorkspace(project.mirror) as ws:
        ws.open()
    assert project.mirror.read_bytes() == before
    assert not [t for t in threading.enumerate() if t.name.startswith("safemirror-engine")]
    assert not [p for p in project.mirror.parent.iterdir() if ".sync-" in p.name]


def test_a_killed_runs_spill_directory_is_removed(project: ProjectConfig) -> None:
    run_sync(project)
    spill = project.mirror.with_name(f".{project.mirror.name}.sync-99999.tmp.tmp")
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 100)
    run_sync(project)
    assert not spill.exists()


@pytest.mark.parametrize("window_blocks", [1, 3, 64])
def test_only_the_blocks_that_differ_are_written(
    tmp_path: Path, window_blocks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace, "_WINDOW", window_blocks * workspace._BLOCK)
    block = workspace._BLOCK
    live = bytearray(random.Random(5).randbytes(5 * block + 1000))  # ends in a partial block
    spare = bytearray(live)
    spare[block + 17] ^= 0xFF  # one byte in the second block
    spare[4 * block - 1] ^= 0xFF  # the last byte of the fourth
    spare[5 * block + 999] ^= 0xFF  # the partial block's last byte
    written = _bring_up_to_date(tmp_path, spare, live)
    assert written == 2 * block + 1000


@pytest.mark.parametrize("full", [False, True])
def test_no_other_user_can_reach_the_working_copy(
    project: ProjectConfig, tiny: TinyProduction, monkeypatch: pytest.MonkeyPatch, full: bool
) -> None:
    run_sync(project)
    seen: dict[str, object] = {}
    verified = run_module._passed

    def peek(checking: object) -> None:  # the copy is complete, not yet published
        (private,) = [p for p in project.mirror.parent.iterdir() if ".sync-" in p.name]
        seen["mode"] = stat.S_IMODE(private.stat().st_mode)
        seen["files"] = sorted(p.name for p in private.iterdir())
        verified(checking)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "_passed", peek)
    umask = os.umask(0)  # the loosest umask: files DuckDB creates would be 0666
    try:
        add_user(tiny, 21)
        run_sync(project, full=full)
    finally:
        os.umask(umask)
    assert seen["mode"] == 0o700
    assert project.mirror.name in seen["files"]  # the working copy, inside it
    assert oct(project.mirror.stat().st_mode & 0o777) == oct(0o600)
    assert not [p for p in project.mirror.parent.iterdir() if ".sync-" in p.name]


def _spoil_blocks(path: Path) -> bytes:
    """Overwrite a stretch of every data block of the DuckDB file at ``path`` (past its
    three 4 KB headers), so that the file opens but no block passes its checksum."""
    data = bytearray(path.read_bytes())
    for block in range(12_288, len(data), 262_144):
        data[block + 64 : block + 128] = b"\xa5" * 64
    path.write_bytes(bytes(data))
    return bytes(data)


def test_a_mirror_whose_blocks_do_not_read_is_refused_and_left_alone(
    project: ProjectConfig,
) -> None:
    run_sync(project)
    spoiled = _spoil_blocks(project.mirror)
    config = str(project.mirror.parent / "safemirror.yaml")
    for command in (["sync", "--quiet"], ["sync", "--full", "--quiet"], ["verify"]):
        assert run([*command, "--config", config]) == ExitCode.SOURCE, command
        assert project.mirror.read_bytes() == spoiled
    failed = [e for e in AuditLog(project.audit_log).entries() if e.kind == "sync.failed"]
    assert [e.data["exit_code"] for e in failed] == [ExitCode.SOURCE, ExitCode.SOURCE]
    assert not [p for p in project.mirror.parent.iterdir() if ".sync-" in p.name]


def test_a_duckdb_failure_mid_run_is_an_error_not_a_traceback(
    project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up, say: the run stops with the source-side exit code, the live
    mirror stays, and the audit log records DuckDB's error by its kind only."""
    run_sync(project)
    before = project.mirror.read_bytes()

    def full_disk(*args: object, **kwargs: object) -> None:
        raise duckdb.IOException("could not write file: No space left on device")

    monkeypatch.setattr(run_module, "write_all", full_disk)
    with pytest.raises(SourceError, match="No space left") as caught:
        run_sync(project)
    assert caught.value.exit_code == ExitCode.SOURCE
    assert project.mirror.read_bytes() == before
    (failed,) = [e for e in AuditLog(project.audit_log).entries() if e.kind == "sync.failed"]
    assert (failed.data["error"], failed.data["exit_code"]) == (
        "DuckDB IOException",
        ExitCode.SOURCE,
    )

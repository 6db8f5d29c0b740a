"""A SQLite database that a writer holds locked, that an interrupted write left a journal
beside, or whose file is damaged: a read waits for the lock, and otherwise fails with an
error that says what is wrong with the file (never a traceback, never a stored value)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from safemirror.errors import ExitCode, SourceError
from safemirror.policy.suggest import suggest_policy
from safemirror.sources import sqlite as sqlite_source
from safemirror.sources.sqlite import SqliteSource
from tests.conftest import sqlite_db


def _production(path: Path, rows: int = 50) -> str:
    return sqlite_db(
        path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, secret TEXT)",
        f"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {rows}) "
        "INSERT INTO t SELECT i, 'Hunter2-' || hex(randomblob(100)) FROM c",
    )


_WRITER = (
    "import sqlite3, sys, time\n"
    "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "db.execute('BEGIN EXCLUSIVE')\n"
    "db.execute('UPDATE t SET id = id')\n"
    "print('locked', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "db.execute('COMMIT')\n"
)


def _locked(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding an exclusive lock on ``path`` (as a writer does while it
    commits) for ``seconds``. (Not this one: POSIX locks do not conflict within a
    process, and the driver links a SQLite of its own.)"""
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
    return writer


def test_a_read_waits_for_a_writer_that_holds_a_lock(tmp_path: Path) -> None:
    url = _production(tmp_path / "prod.db")
    with SqliteSource(url) as src:
        src.tables()  # read before the lock: the read itself waits
        writer = _locked(tmp_path / "prod.db", 0.5)
        try:
            read = pa.Table.from_batches(list(src.read("t", ["id"])))
        finally:
            writer.wait()
    assert read.num_rows == 50


def test_a_lock_held_too_long_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _production(tmp_path / "prod.db")
    monkeypatch.setattr(sqlite_source, "BUSY_TIMEOUT_MS", 100)
    with SqliteSource(url) as src:
        src.tables()
        writer = _locked(tmp_path / "prod.db", 2)
        try:
            with pytest.raises(SourceError) as caught:
                list(src.read("t", ["id", "secret"]))
        finally:
            writer.wait()
    assert caught.value.exit_code == ExitCode.SOURCE
    assert "reading table 't' failed: another connection held a lock" in caught.value.message
    assert "WAL" in (caught.value.hint or "")


def test_a_journal_left_by_an_interrupted_write_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "prod.db"
    url = _production(path, rows=3000)
    interrupted = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA cache_size = 1')\n"
        "db.execute('BEGIN')\n"
        "db.execute('UPDATE t SET secret = hex(randomblob(200))')\n"
        "os._exit(0)\n"  # dies with the write half done: its journal is hot
    )
    subprocess.run([sys.executable, "-c", interrupted, str(path)], check=True)
    assert Path(f"{path}-journal").exists()
    before = path.read_bytes()
    with pytest.raises(SourceError) as caught:
        SqliteSource(url)
    assert "interrupted write" in caught.value.message
    assert "PRAGMA quick_check" in (caught.value.hint or "")
    assert path.read_bytes() == before  # rolled back by nobody but its owner


def test_a_damaged_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "prod.db"
    url = _production(path, rows=3000)
    damaged = bytearray(path.read_bytes())
    damaged[5 * 4096 : 40 * 4096] = b"\xab" * (35 * 4096)  # pages of the table's b-tree
    path.write_bytes(bytes(damaged))
    with SqliteSource(url) as src:
        for attempt in (
            lambda: src.sample("t", ["id", "secret"], 100),
            lambda: list(src.read("t", ["id", "secret"])),
        ):
            with pytest.raises(SourceError) as caught:
                attempt()
            assert caught.value.exit_code == ExitCode.SOURCE
            assert "the file is damaged" in caught.value.message
            assert "Hunter2" not in str(caught.value)
        draft = suggest_policy(src, warn=lambda _: None)
    assert "t: skip" in draft


@pytest.mark.parametrize("change", ["removed", "replaced"])
def test_a_file_removed_or_replaced_after_opening_is_a_source_error(
    tmp_path: Path, change: str
) -> None:
    """Each read opens the file again: one gone (or no longer a database) by then says so,
    for every kind of read, rather than the driver's "failed to allocate memory"."""
    path = tmp_path / "prod.db"
    url = _production(path)
    with SqliteSource(url) as src:
        src.tables()
        path.unlink()
        if change == "replaced":
            path.write_bytes(b"not a database " * 1000)
        for attempt in (
            lambda: list(src.read("t", ["id", "secret"])),
            lambda: src.sample("t", ["id"], 10),
            lambda: src.value_counts("t", "secret", 1),
        ):
            with pytest.raises(SourceError) as caught:
                attempt()
            assert caught.value.exit_code == ExitCode.SOURCE
            said = "no longer exists" if change == "removed" else "not a SQLite database"
            assert said in caught.value.message, caught.value.message
            assert "Hunter2" not in str(caught.value)

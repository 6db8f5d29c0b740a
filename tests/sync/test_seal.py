"""The seal: the live mirror is known unchanged since the sync that published it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from safemirror.mirror.seal import is_sealed, remove_seal, seal_path, write_seal


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    path = tmp_path / "mirror.duckdb"
    path.write_bytes(b"generation one")
    write_seal(path)
    return path


def test_a_fresh_seal_holds_and_is_private(mirror: Path) -> None:
    assert is_sealed(mirror)
    assert oct(seal_path(mirror).stat().st_mode & 0o777) == oct(0o600)
    assert is_sealed(mirror)  # reading does not break it


def test_a_write_breaks_the_seal_even_with_size_and_mtime_restored(mirror: Path) -> None:
    before = mirror.stat()
    with mirror.open("r+b") as handle:  # same size, other bytes
        handle.write(b"G")
    os.utime(mirror, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime set back
    assert mirror.stat().st_size == before.st_size
    assert mirror.stat().st_mtime_ns == before.st_mtime_ns
    assert not is_sealed(mirror)  # the change time moved and cannot be set back


def test_a_chmod_or_a_file_copied_over_breaks_the_seal(mirror: Path, tmp_path: Path) -> None:
    os.chmod(mirror, 0o600)
    assert not is_sealed(mirror)
    write_seal(mirror)
    other = tmp_path / "other.duckdb"
    shutil.copy2(mirror, other)  # same bytes and mtime, another file
    os.replace(other, mirror)
    assert not is_sealed(mirror)


def test_a_missing_or_corrupt_seal_is_no_seal(mirror: Path) -> None:
    seal_path(mirror).write_text("{not json", encoding="utf-8")
    assert not is_sealed(mirror)
    remove_seal(mirror)
    assert not is_sealed(mirror)
    remove_seal(mirror)  # nothing to remove: no error
    mirror.unlink()
    write_seal(mirror)  # no mirror: nothing recorded, no error
    assert not seal_path(mirror).exists() and not is_sealed(mirror)

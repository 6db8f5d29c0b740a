"""The project file: settings of the right kind, each of its files with a path of its own,
and a mirror that never fetches."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from safemirror.config import load_config
from safemirror.errors import ConfigError, SourceError
from safemirror.keys import create_key_file
from safemirror.sync.run import run_sync
from tests.sync.tiny import TINY_POLICY, TinyProduction, file_digest


def _project(tmp_path: Path, **settings: object) -> Path:
    create_key_file(tmp_path / "mirror.key")
    body = {
        "source": "sqlite:///production.db",
        "mirror": "mirror.duckdb",
        "key": "file:mirror.key",
        "policy": TINY_POLICY,
        **settings,
    }
    path = tmp_path / "safemirror.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("mirror", ["a"], "a list"),
        ("audit_log", True, "true/false"),
        ("mirror", "", "an empty one"),
        ("mirror", None, "nothing"),
        ("source", 5432, "a number"),
        ("key", {"file": "mirror.key"}, "a mapping"),
    ],
)
def test_a_setting_of_the_wrong_kind_is_refused_naming_it(
    tmp_path: Path, setting: str, value: object, said: str
) -> None:
    """Not turned into a file named ``True`` or ``['a']``, nor the project directory."""
    with pytest.raises(ConfigError, match=f"'{setting}' must be a non-empty string, not {said}"):
        load_config(_project(tmp_path, **{setting: value}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mirror.key", "safemirror.yaml"]


def test_an_empty_policy_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'policy' is empty"):
        load_config(_project(tmp_path, policy=" "))


@pytest.mark.parametrize(
    ("settings", "clash"),
    [
        ({"mirror": "production.db"}, "mirror and source"),
        ({"mirror": "./mirror.key"}, "mirror and key"),
        ({"audit_log": "mirror.duckdb"}, "mirror and audit_log"),
        ({"mirror": "safemirror.yaml"}, "the project file and mirror"),
    ],
)
def test_files_that_share_a_path_are_refused(
    tmp_path: Path, tiny: TinyProduction, settings: dict[str, str], clash: str
) -> None:
    """A sync renames the new mirror over its path: at the source's, it would replace
    production."""
    before = file_digest(tmp_path / "production.db")
    with pytest.raises(ConfigError, match=f"{clash} are the same file"):
        load_config(_project(tmp_path, **settings))
    assert file_digest(tmp_path / "production.db") == before


def test_a_mirror_of_another_format_is_refused_without_a_download(
    tmp_path: Path, tiny: TinyProduction
) -> None:
    """DuckDB would fetch its SQLite extension to open a SQLite file as the mirror; the sync
    allows no download and refuses the file as it is."""
    shutil.copy(tiny.path, tmp_path / "mirror.duckdb")
    before = file_digest(tmp_path / "mirror.duckdb")
    with pytest.raises(SourceError, match="cannot be opened") as caught:
        run_sync(load_config(_project(tmp_path)))
    assert "INSTALL" in caught.value.message or "install" in caught.value.message.lower()
    assert "Could not establish connection" not in caught.value.message
    assert file_digest(tmp_path / "mirror.duckdb") == before

"""Every YAML file safemirror reads refuses a key given twice in one mapping, and bytes
that are not UTF-8 text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from safemirror import strict_yaml
from safemirror.config import load_config
from safemirror.errors import ConfigError, PolicyError
from safemirror.guard.targets import load as load_targets
from safemirror.policy.load import load_policy


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",
        "a: 1\nb:\n  c: 2\n  c: 3\n",
        "x: {a: 1, a: 2}\n",  # on one line
        "t: [{k: 1, k: 2}]\n",  # inside a list
    ],
)
def test_a_key_given_twice_is_refused(text: str) -> None:
    with pytest.raises(yaml.YAMLError, match="a second time"):
        strict_yaml.load(text)


def test_merges_may_still_override_and_safe_types_only() -> None:
    assert strict_yaml.load("b: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\n") == {
        "b": {"x": 1, "y": 2},
        "c": {"x": 3, "y": 2},
    }
    with pytest.raises(yaml.YAMLError):
        strict_yaml.load("a: !!python/object/apply:os.system ['true']\n")


POLICY = """\
version: 1
tables:
  users:
    primary_key: id
    columns:
      id: {action: pseudonymize, domain: user}
      email: drop
      email: keep
"""


def test_a_policy_that_classifies_a_column_twice_is_refused(tmp_path: Path) -> None:
    """The last of the two would win: a reviewer reading from the top would see drop."""
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    with pytest.raises(PolicyError, match=r"'email' a second time \(first on line 7\)"):
        load_policy(path)


def test_a_project_or_targets_file_with_a_key_twice_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "safemirror.yaml"
    project.write_text("source: sqlite:///a.db\nmirror: a.duckdb\nmirror: b.duckdb\n")
    with pytest.raises(ConfigError, match="'mirror' a second time"):
        load_config(project)
    targets = tmp_path / "targets.yaml"
    targets.write_text(
        "targets:\n  - name: cache\n    kind: redis\n    address: 127.0.0.1:6379\n"
        "    kind: postgres\n"
    )
    with pytest.raises(ConfigError, match="'kind' a second time"):
        load_targets(targets)


def test_a_file_that_is_not_utf8_text_is_a_clear_error(tmp_path: Path) -> None:
    """Each loader says where the file stops being text, rather than a decode traceback."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    where = r"not UTF-8 text \(byte 0xe9 at offset 9\)"
    for loader, error in ((load_config, ConfigError), (load_policy, PolicyError)):
        with pytest.raises(error, match=where):
            loader(path)
    with pytest.raises(ConfigError, match=where):
        load_targets(path)


# A password file given as the project or policy file: YAML reads each "user:...::" line
# as a key. The errors count such keys and never repeat them.
SHADOW = "".join(
    f"{user}:$6$saltsalt$HASH{user}hash:19000:0:99999:7::\n" for user in ("root", "alice", "bob")
)


def test_a_password_file_given_as_project_file_is_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "shadow"
    path.write_text(SHADOW)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "3 keys that look like no setting's name (not shown)" in str(caught.value)
    assert "saltsalt" not in str(caught.value) and "alice" not in str(caught.value)


def test_a_password_file_given_as_policy_is_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "shadow"
    path.write_text(SHADOW + "tablez: {}\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert "tablez: unknown setting" in message  # a name-like key is named
    assert "3 keys that look like no setting's name (not shown)" in message
    assert "saltsalt" not in message and "alice" not in message


def test_keys_of_mixed_types_in_a_project_file_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "safemirror.yaml"
    path.write_text("1: a\nfoo: b\n2.5: c\n")
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) 1, 2.5, foo"):
        load_config(path)


def test_a_key_given_twice_is_named_only_if_it_looks_like_a_name() -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        strict_yaml.load('"alice:$6$salt": 1\n"alice:$6$salt": 2\n')
    assert "found key (not shown) a second time (first on line 1)" in str(caught.value)
    assert "salt" not in str(caught.value)


def test_a_password_file_given_as_targets_file_is_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "shadow"
    path.write_text(SHADOW)
    with pytest.raises(ConfigError) as caught:
        load_targets(path)
    assert "(a key not shown): Extra inputs are not permitted" in str(caught.value)
    assert "saltsalt" not in str(caught.value) and "alice" not in str(caught.value)

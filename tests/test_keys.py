"""The pseudonymization key: placeholders and weak keys are refused without naming them."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from safemirror.errors import KeyMaterialError
from safemirror.keys import create_key_file, fingerprint, load_key


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("x" * 40, "only 1 different"),
        ("ab" * 20, "only 2 different"),
        ("changeme" * 4, "repeats the same 8"),
        ("0123456789abcdef" * 2, "repeats the same 16"),
        ("k3y-0f-9", "too short"),
    ],
)
def test_weak_keys_are_refused_without_their_content(
    value: str, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SM_TEST_KEY", value)
    with pytest.raises(KeyMaterialError, match=why) as caught:
        load_key("env:SM_TEST_KEY")
    assert value not in str(caught.value) and value[:5] not in str(caught.value)


@pytest.mark.parametrize("nbytes", [16, 32])
def test_random_keys_are_taken(nbytes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """'openssl rand -hex 16' and longer: random hex keys pass the checks."""
    for _ in range(200):
        value = secrets.token_hex(nbytes)
        monkeypatch.setenv("SM_TEST_KEY", value)
        assert load_key("env:SM_TEST_KEY") == value.encode()


def test_a_created_key_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "k"
    create_key_file(path)
    key = load_key("file:k", tmp_path)
    assert len(key) >= 32 and fingerprint(key) != fingerprint(key + b"x")

"""Fixtures for sync tests: a tiny production, a project file with its key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from safemirror.config import ProjectConfig, load_config
from safemirror.keys import create_key_file
from tests.sync.tiny import TINY_POLICY, TinyProduction


@pytest.fixture
def tiny(tmp_path: Path) -> TinyProduction:
    return TinyProduction(tmp_path / "production.db")


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., ProjectConfig]:
    """Write safemirror.yaml (and a key file) for a source URL and policy; load it."""
    key_path = tmp_path / "mirror.key"
    create_key_file(key_path)

    def make(source: str, policy: dict[str, Any] | None = None, **extra: Any) -> ProjectConfig:
        body = {
            "source": source,
            "mirror": "mirror.duckdb",
            "key": f"file:{key_path}",
            "audit_log": "audit.jsonl",
            "policy": policy or TINY_POLICY,
            **extra,
        }
        path = tmp_path / "safemirror.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False))
        return load_config(path)

    return make

"""Set up a demo project directory (key, policy, project file) and sync it."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import yaml

from safemirror.config import ProjectConfig, load_config
from safemirror.keys import create_key_file
from safemirror.policy.model import Action, Policy

CONFIG_NAME = "safemirror.yaml"
KEY_NAME = "safemirror.key"
POLICY_NAME = "policy.yaml"


def demo_policy_text() -> str:
    """The shipped policy for the demo schema."""
    return files("safemirror.policy").joinpath("demo_policy.yaml").read_text(encoding="utf-8")


def prepare_project(directory: Path, production: Path) -> ProjectConfig:
    """Write the key (0600), the policy and ``safemirror.yaml`` unless they exist."""
    key = directory / KEY_NAME
    if not key.exists():
        create_key_file(key)
    policy = directory / POLICY_NAME
    if not policy.exists():
        policy.write_text(demo_policy_text(), encoding="utf-8")
    config = directory / CONFIG_NAME
    if not config.exists():
        config.write_text(
            yaml.safe_dump(
                {
                    "source": f"sqlite:///{production.name}",
                    "mirror": "mirror.duckdb",
                    "key": f"file:{KEY_NAME}",
                    "audit_log": "safemirror-audit.jsonl",
                    "policy": POLICY_NAME,
                },
                sort_keys=False,
            ),
            encoding="utf-8",
        )
    return load_config(config)


def reset_mirror(config: ProjectConfig) -> None:
    """Remove the mirror of an earlier demo run (its production was just regenerated)."""
    for leftover in config.mirror.parent.glob(config.mirror.name + "*"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()


def columns_by_action(policy: Policy) -> dict[str, dict[str, list[str]]]:
    """For each table, its columns grouped as copied / generalized / pseudonymized / removed."""
    groups: dict[str, dict[str, list[str]]] = {}
    for table, table_policy in policy.tables.items():
        found: dict[str, list[str]] = {
            "copied": [],
            "generalized": [],
            "pseudonymized": [],
            "removed": [],
        }
        for column, spec in table_policy.columns.items():
            if spec.action is Action.KEEP:
                found["copied"].append(column)
            elif spec.action is Action.GENERALIZE:
                found["generalized"].append(column)
            elif spec.action is Action.PSEUDONYMIZE:
                found["pseudonymized"].append(column)
            else:
                found["removed"].append(column)
        groups[table] = found
    return groups

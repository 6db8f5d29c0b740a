"""Set up a demo project directory (key, policy, project file) and sync it."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import yaml

from safemirror import strict_yaml
from safemirror.config import ProjectConfig, load_config
from safemirror.errors import ConflictError
from safemirror.keys import create_key_file
from safemirror.policy.model import Action, Policy
from safemirror.sources.common import sqlite_url

CONFIG_NAME = "safemirror.yaml"
KEY_NAME = "safemirror.key"
POLICY_NAME = "policy.yaml"


def demo_policy_text() -> str:
    """The shipped policy for the demo schema."""
    return files("safemirror.policy").joinpath("demo_policy.yaml").read_text(encoding="utf-8")


def demo_settings(production: Path) -> dict[str, str]:
    """The project file the demo writes, for its production database ``production``."""
    return {
        "source": sqlite_url(Path(production.name)),
        "mirror": "mirror.duckdb",
        "key": f"file:{KEY_NAME}",
        "audit_log": "safemirror-audit.jsonl",
        "policy": POLICY_NAME,
    }


def _is_demo_project(config: Path, production: Path) -> bool:
    """Whether ``config`` has the settings the demo wrote (others, such as a ``server``
    section, may have been added since)."""
    try:
        found = strict_yaml.load(config.read_bytes())
    except (OSError, yaml.YAMLError):
        return False
    wrote = demo_settings(production)
    return isinstance(found, dict) and all(found.get(k) == v for k, v in wrote.items())


def claim_directory(directory: Path, production: Path) -> None:
    """Refuse a directory the demo did not make: the demo replaces the production database
    and the mirror there, so a project of the user's own must never be taken for one.
    A new or empty directory, or an earlier demo's (its project file with the settings the
    demo wrote), is the demo's."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise ConflictError(
            f"{directory} is not a directory", hint="pass --dir with a new or empty directory"
        )
    entries = sorted(entry.name for entry in directory.iterdir())
    if not entries or _is_demo_project(directory / CONFIG_NAME, production):
        return
    shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    raise ConflictError(
        f"{directory} holds files the demo did not make ({shown}); the demo replaces "
        f"{production.name} and the mirror in its directory, so it runs only in a new or "
        "empty directory or in an earlier demo's",
        hint="pass --dir with a new or empty directory",
    )


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
        config.write_text(yaml.safe_dump(demo_settings(production), sort_keys=False), "utf-8")
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

"""The project file (``safemirror.yaml``): source, mirror, key reference, policy, server.

Relative paths are resolved against the directory of the project file. Values of the
form ``env:NAME`` are read from the environment, so credentials need not sit in the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safemirror import strict_yaml
from safemirror.errors import ConfigError
from safemirror.policy.load import load_policy, policy_from_data
from safemirror.policy.model import Policy

DEFAULT_CONFIG = Path("safemirror.yaml")
CONFIG_ENV = "SAFEMIRROR_CONFIG"


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    keys_file: Path = Path("safemirror-keys.json")
    min_cell: int = Field(default=11, ge=2)
    query_timeout_s: float = Field(default=10.0, gt=0, le=300)
    max_rows: int = Field(default=10_000, ge=1, le=1_000_000)
    memory_limit: str = "1GB"


class ProjectConfig(BaseModel):
    """A loaded, validated project file."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    base_dir: Path
    source: str
    mirror: Path
    key: str
    audit_log: Path
    policy: Policy
    policy_origin: str
    server: ServerSettings = Field(default_factory=ServerSettings)

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path)


def resolve_env(value: str, what: str) -> str:
    """Expand ``env:NAME`` references; other values pass through."""
    if value.startswith("env:"):
        name = value[4:]
        found = os.environ.get(name)
        if not found:
            raise ConfigError(
                f"{what} refers to environment variable {name}, which is not set",
                hint=f"export {name}=... before running",
            )
        return found
    return value


def config_path(path: Path | None) -> Path:
    if path is not None:
        return path
    return Path(os.environ.get(CONFIG_ENV, str(DEFAULT_CONFIG)))


def load_config(path: Path | None = None) -> ProjectConfig:
    """Load and validate the project file (``--config``, ``$SAFEMIRROR_CONFIG`` or ./)."""
    path = config_path(path)
    try:
        raw = strict_yaml.load(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(
            f"no project file at {path}",
            hint="run from a project directory, pass --config, or try "
            "'safemirror demo' to create one",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read project file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the project file must be a mapping")
    return config_from_data(raw, path)


def _shown(value: Any) -> str:
    """A wrong setting's kind, for a message (its value could be a credential)."""
    if isinstance(value, str):
        return "an empty one"
    return {bool: "true/false", int: "a number", float: "a number", list: "a list"}.get(
        type(value), "a mapping" if isinstance(value, dict) else "nothing"
    )


def config_from_data(raw: dict[str, Any], path: Path) -> ProjectConfig:
    base = path.resolve().parent
    known = {"source", "mirror", "key", "audit_log", "policy", "server"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {strict_yaml.keys_text(unknown)}",
            hint=f"allowed: {', '.join(sorted(known))}",
        )
    for required in ("source", "key", "policy"):
        if required not in raw:
            raise ConfigError(
                f"{path}: '{required}' is missing", hint="see README, 'The project file'"
            )
    for name in ("source", "key", "mirror", "audit_log"):
        if name in raw and (not isinstance(raw[name], str) or not raw[name].strip()):
            raise ConfigError(
                f"{path}: '{name}' must be a non-empty string, not {_shown(raw[name])}",
                hint="see README, 'The project file'",
            )
    policy_raw = raw["policy"]
    if isinstance(policy_raw, str) and not policy_raw.strip():
        raise ConfigError(
            f"{path}: 'policy' is empty", hint="name the policy file, or write the policy inline"
        )
    if isinstance(policy_raw, str):
        policy_path = Path(policy_raw)
        policy_path = policy_path if policy_path.is_absolute() else base / policy_path
        policy, origin = load_policy(policy_path), str(policy_path)
    else:
        policy, origin = policy_from_data(policy_raw, str(path)), str(path)
    try:
        server = ServerSettings.model_validate(raw.get("server") or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: server.{field}: {first['msg']}") from None
    mirror = Path(raw.get("mirror", "mirror.duckdb"))
    audit = Path(raw.get("audit_log", "safemirror-audit.jsonl"))
    config = ProjectConfig(
        base_dir=base,
        source=raw["source"],
        mirror=mirror,
        key=raw["key"],
        audit_log=audit,
        policy=policy,
        policy_origin=origin,
        server=server,
    )
    config.mirror = config.resolve(config.mirror)
    config.audit_log = config.resolve(config.audit_log)
    config.server.keys_file = config.resolve(config.server.keys_file)
    _check_distinct(config, path)
    return config


def _check_distinct(config: ProjectConfig, path: Path) -> None:
    """Refuse a project whose files overlap: a sync renames the new mirror over ``mirror``,
    so a mirror at the source's (or the key's, the log's…) path would replace that file."""
    files = {
        "the project file": path,
        "mirror": config.mirror,
        "audit_log": config.audit_log,
        "server.keys_file": config.server.keys_file,
    }
    if config.policy_origin != str(path):
        files["the policy file"] = Path(config.policy_origin)
    if config.key.startswith("file:"):
        files["key"] = config.resolve(Path(config.key[len("file:") :]))
    if config.source.startswith("sqlite:///"):
        files["source"] = Path(source_url(config)[len("sqlite:///") :])
    seen: dict[Path, str] = {}
    for role, file in files.items():
        other = seen.setdefault(file.resolve(), role)
        if other != role:
            raise ConfigError(
                f"{path}: {other} and {role} are the same file ({file})",
                hint="give each its own path",
            )


def source_url(config: ProjectConfig) -> str:
    """The source URL with ``env:`` expanded and relative SQLite paths resolved."""
    url = resolve_env(config.source, "source")
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix) :].startswith("/"):
        url = prefix + str(config.base_dir / url[len(prefix) :])
    return url


def find_audit_path(path: Path | None = None) -> Path:
    """The audit log of the project file if there is one, else ./safemirror-audit.jsonl."""
    cfg = config_path(path)
    if cfg.exists():
        return load_config(cfg).audit_log
    return Path("safemirror-audit.jsonl")

"""Load a policy from YAML and turn validation errors into messages that name the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from safemirror import strict_yaml
from safemirror.errors import PolicyError
from safemirror.policy.model import Policy


def _where(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "tables":
        text = f"table '{parts[1]}'"
        if len(parts) >= 4 and parts[2] == "columns":
            text += f", column '{parts[3]}'"
            rest = parts[4:]
        else:
            rest = parts[2:]
        rest = [p for p in rest if p not in {"function-after[_params_fit_action()]"}]
        return text + (f", field '{'.'.join(rest)}'" if rest else "")
    return ".".join(parts) or "policy"


def policy_from_data(data: Any, origin: str) -> Policy:
    """Validate already-parsed policy data; ``origin`` names the file for messages."""
    if not isinstance(data, dict):
        raise PolicyError(
            f"{origin}: the policy must be a mapping with a 'tables' key",
            hint="see README, 'The policy format'",
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        lines, hidden = [], 0
        for err in exc.errors():
            msg = str(err["msg"]).removeprefix("Value error, ")
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden" and not strict_yaml.name_like(loc[-1]):
                hidden += 1
                continue
            if err["type"] == "extra_forbidden":
                msg = "unknown setting (typo? see README, 'The policy format')"
            elif err["type"] == "enum":
                msg = "unknown action; use keep, drop, secret, pseudonymize or generalize"
            lines.append(f"  {_where(loc)}: {msg}")
        if hidden:
            lines.append(f"  {strict_yaml.unnamed(hidden)}: is this a policy file?")
        raise PolicyError(
            f"{origin}: invalid policy\n" + "\n".join(lines),
            hint="correct the entries above and run 'safemirror policy check'",
        ) from None


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(
            f"cannot read policy file {path}: {exc.strerror}",
            hint="pass the right path with --config or create one with 'safemirror policy suggest'",
        ) from None
    try:
        data = strict_yaml.load(raw)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML ({exc})") from None
    if isinstance(data, dict) and "policy" in data and "tables" not in data:
        data = data["policy"]
    return policy_from_data(data, str(path))

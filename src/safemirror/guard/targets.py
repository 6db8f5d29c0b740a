"""Load and validate a targets file before anything runs.

Every problem is reported with the file, the line, the entry (index and name) and the
field, e.g. ``targets.yaml line 9: targets[1] 'cache': expect.tls: Input should be
'required' or 'optional'``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from safemirror import strict_yaml
from safemirror.errors import ConfigError, UsageError
from safemirror.guard.probes import registry
from safemirror.guard.spec import AlertsSpec, FileSpec, Target, TargetSpec

MAX_REPORTED = 6


@dataclass(frozen=True)
class TargetsFile:
    path: Path
    targets: list[Target]
    alerts: AlertsSpec


def _positions(
    node: yaml.Node, path: tuple[str | int, ...] = (), seen: set[int] | None = None
) -> dict[tuple[str | int, ...], int]:
    """Map each key path of a composed YAML document to its 1-based line. A node reached
    again through an alias is not walked again: aliases of aliases (a few hundred bytes)
    would otherwise make billions of paths."""
    seen = set() if seen is None else seen
    out = {path: node.start_mark.line + 1}
    if id(node) in seen:
        return out
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out.update(_positions(value, (*path, str(key.value)), seen))
            out[(*path, str(key.value))] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out.update(_positions(item, (*path, index), seen))
    return out


def _line_for(lines: dict[tuple[str | int, ...], int], path: tuple[str | int, ...]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _loc(loc: Iterable[Any]) -> str:
    """A field's place, for a message; an unknown key that looks like no setting's name
    (a line of a file given by mistake) is not repeated."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        name = str(part) if strict_yaml.name_like(part) else "(a key not shown)"
        text += f".{name}" if text else name
    return text or "(entry)"


class _Problems:
    def __init__(self, path: Path, lines: dict[tuple[str | int, ...], int]) -> None:
        self.path, self.lines = path, lines
        self.items: list[str] = []

    def add(self, where: tuple[str | int, ...], entry: str, field: str, message: str) -> None:
        line = _line_for(self.lines, where)
        at = f"{self.path.name} line {line}" if line else self.path.name
        self.items.append(f"{at}: {entry}: {field}: {message}")

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_REPORTED]
        more = len(self.items) - len(shown)
        suffix = f" (and {more} more)" if more else ""
        raise ConfigError(
            f"targets file {self.path} is invalid: " + "; ".join(shown) + suffix,
            hint="fix the named fields; `safemirror guard probes KIND` shows each kind's settings",
        )


def _read(path: Path) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"targets file {path} does not exist",
            hint="pass --targets FILE; see docs/guard.md for the format",
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read targets file {path}: {exc.strerror}") from None
    try:
        text = strict_yaml.decode(raw)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = strict_yaml.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"targets file {path}{where} is not valid YAML: {problem}") from None
    return data, (_positions(node) if node is not None else {})


def _validate_entry(index: int, raw: Any, problems: _Problems) -> Target | None:
    where: tuple[str | int, ...] = ("targets", index)
    name = raw.get("name") if isinstance(raw, dict) else None
    entry = f"targets[{index}]" + (f" {name!r}" if isinstance(name, str) else "")
    if not isinstance(raw, dict):
        problems.add(where, entry, "(entry)", "must be a mapping with name, kind and address")
        return None
    try:
        spec = TargetSpec.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            problems.add((*where, *err["loc"]), entry, _loc(err["loc"]), err["msg"])
        return None
    try:
        probe = registry.get(spec.kind)
    except KeyError:
        known = ", ".join(registry.kinds())
        problems.add(
            (*where, "kind"), entry, "kind", f"unknown kind {spec.kind!r} (known: {known})"
        )
        return None
    ok = True
    try:
        endpoint = probe.parse_address(spec.address)
    except ValueError as exc:
        problems.add((*where, "address"), entry, "address", str(exc))
        ok = False
    try:
        settings = probe.Settings.model_validate(spec.settings)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ("settings", *err["loc"])
            problems.add((*where, *loc), entry, _loc(loc), err["msg"])
        ok = False
    if not ok:
        return None
    return Target(
        name=spec.name,
        kind=spec.kind,
        endpoint=endpoint,
        holds=tuple(spec.holds),
        expect=spec.expect,
        timeout=spec.timeout,
        settings=settings,
        remediate=spec.remediate,
        line=_line_for(problems.lines, where),
    )


def validate(
    data: Any, path: Path, lines: dict[tuple[str | int, ...], int] | None = None
) -> TargetsFile:
    """Validate parsed YAML ``data``; raise ``ConfigError`` naming every bad field."""
    problems = _Problems(path, lines or {})
    if not isinstance(data, dict):
        problems.add((), "file", "(top level)", "must be a mapping with a `targets:` list")
        problems.raise_if_any()
    try:
        top = FileSpec.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.add(loc, "file", _loc(loc), err["msg"])
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    targets: list[Target] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(top.targets):
        target = _validate_entry(index, raw, problems)
        if target is None:
            continue
        if target.name in seen:
            problems.add(
                ("targets", index, "name"),
                f"targets[{index}] {target.name!r}",
                "name",
                f"duplicate name (also targets[{seen[target.name]}])",
            )
        seen.setdefault(target.name, index)
        targets.append(target)
    problems.raise_if_any()
    return TargetsFile(path, targets, top.alerts)


def load(path: str | Path) -> TargetsFile:
    """Read and validate a targets file."""
    path = Path(path)
    data, lines = _read(path)
    return validate(data, path, lines)

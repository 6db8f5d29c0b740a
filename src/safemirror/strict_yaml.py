"""YAML read strictly: a mapping that gives a key twice is an error.

PyYAML keeps the last of two equal keys without a word, so a policy that lists a column
twice (``email: drop``, and further down ``email: keep``) would silently do what a
reviewer reading from the top would not expect. Every file safemirror reads (project,
policy, guard targets) goes through ``load``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

_MERGE = "tag:yaml.org,2002:merge"
_NAME_LIKE = re.compile(r"[\w .-]{1,64}")  # what a setting's name can look like
# libyaml's parser, where PyYAML was built with it: a policy of hundreds of tables loads
# in a sixth of the time (the constructor, and so the checks below, stay the same).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """``SafeLoader``, refusing a key given twice in one mapping (merges, ``<<``, may
    still override: that is what they are for)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                seen = key in first_line
            except TypeError:  # an unhashable key: the base class says so
                continue
            if seen:
                raise ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found key {repr(key) if name_like(key) else '(not shown)'} a second time "
                    f"(first on line {first_line[key]})",
                    key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line + 1
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


class NotText(yaml.YAMLError):
    """The file is not UTF-8 text."""


def decode(raw: bytes) -> str:
    """``raw`` as UTF-8 text; ``NotText`` (a ``yaml.YAMLError``) saying where it is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"byte {raw[exc.start]:#04x} at offset {exc.start}"
        raise NotText(f"not UTF-8 text ({where})") from None


def load(text: str | bytes) -> Any:
    """The YAML document in ``text`` (bytes: UTF-8, see ``decode``; safe types only; a
    repeated key raises ``yaml.YAMLError``)."""
    if isinstance(text, bytes):
        text = decode(text)
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)


def name_like(key: Any) -> bool:
    """Whether ``key`` may be shown in an error: it looks like a setting's name. A file
    given by mistake (a password file, say) makes whole lines keys, which must not be."""
    return bool(_NAME_LIKE.fullmatch(str(key)))


def unnamed(count: int) -> str:
    """Words for ``count`` keys that are not ``name_like`` (not shown)."""
    return f"{count} key{'s' if count != 1 else ''} that look like no setting's name (not shown)"


def keys_text(keys: Iterable[Any]) -> str:
    """Unknown ``keys`` for an error: the name-like ones, then how many others."""
    keys = list(keys)
    named = sorted(str(key) for key in keys if name_like(key))
    hidden = len(keys) - len(named)
    return ", ".join(named + ([unnamed(hidden)] if hidden else []))

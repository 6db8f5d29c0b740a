"""The detector registry: every module of this package registers its detector with
``@register``; the registry imports them all on first use, so none can be forgotten."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from safemirror.policy.detectors.base import Detector

_REGISTRY: dict[str, Detector] = {}
_NOT_DETECTORS = {"base", "checksums", "name_lists", "registry", "scan"}
_loaded = False

D = TypeVar("D", bound=type[Detector])


def register(cls: D) -> D:
    """Class decorator: add one instance of ``cls`` under ``cls.name``."""
    if cls.name in _REGISTRY and type(_REGISTRY[cls.name]) is not cls:
        raise ValueError(f"two detectors are named {cls.name!r}")
    _REGISTRY[cls.name] = cls()
    return cls


def _load() -> None:
    global _loaded  # noqa: PLW0603 - a one-time import of the package's modules
    if _loaded:
        return
    package = importlib.import_module("safemirror.policy.detectors")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _NOT_DETECTORS:
            importlib.import_module(f"{package.__name__}.{module.name}")
    _loaded = True


def all_detectors() -> list[Detector]:
    """Every registered detector, by name."""
    _load()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def mirror_detectors() -> list[Detector]:
    """The detectors verify runs over the mirror's kept text columns."""
    return [d for d in all_detectors() if d.scan_mirror]


def get_detector(name: str) -> Detector:
    """The detector called ``name`` (KeyError if there is none)."""
    _load()
    return _REGISTRY[name]

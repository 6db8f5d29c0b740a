"""The registry of probe classes, keyed by kind (Cloud Custodian style)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from safemirror.guard.probes.base import Probe

P = TypeVar("P", bound="type[Probe]")

_PROBES: dict[str, type[Probe]] = {}


def register(cls: P) -> P:
    """Class decorator: add a probe class under its ``kind``; kinds are unique."""
    kind = cls.kind
    if kind in _PROBES and _PROBES[kind] is not cls:
        raise ValueError(f"probe kind {kind!r} is registered twice")
    for attr in ("title", "sends", "example"):
        if not getattr(cls, attr, None):
            raise ValueError(f"probe {cls.__name__} must declare {attr!r}")
    _PROBES[kind] = cls
    return cls


def get(kind: str) -> type[Probe]:
    """The probe class for ``kind``; ``KeyError`` if unknown."""
    return _PROBES[kind]


def kinds() -> list[str]:
    return sorted(_PROBES)


def all_probes() -> list[type[Probe]]:
    return [_PROBES[k] for k in kinds()]

"""Probe classes, one module per store kind; importing this package registers them all."""

from __future__ import annotations

from safemirror.guard.probes import (  # noqa: F401  (imported for registration)
    amqp,
    elasticsearch,
    http,
    mqtt,
    mysql,
    nats,
    postgres,
    redis,
    safemirror,
)
from safemirror.guard.probes.registry import all_probes, get, kinds, register

__all__ = ["all_probes", "get", "kinds", "register"]

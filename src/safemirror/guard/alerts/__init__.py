"""Alert delivery: build sinks from the targets file and fan each alert out to all of them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from rich.console import Console
from rich.markup import escape

from safemirror.audit import AuditLog
from safemirror.consoles import err_console
from safemirror.guard.alerts.base import Alert, AlertDeliveryError, Sink
from safemirror.guard.alerts.sinks import CommandSink, EmailSink, StdoutSink, WebhookSink
from safemirror.guard.spec import AlertsSpec

__all__ = ["Alert", "AlertDeliveryError", "Delivery", "Dispatcher", "Sink", "build_sinks"]

Delivery = tuple[str, bool, str | None]  # channel, delivered, error


class AlertCounter(Protocol):
    def count_alert(self, channel: str, ok: bool) -> None: ...


def build_sinks(
    spec: AlertsSpec,
    *,
    console: Console | None = None,
    stdout: bool | None = None,
    as_json: bool = False,
) -> list[Sink]:
    """Sinks for the ``alerts:`` section; ``stdout`` overrides the file's setting."""
    sinks: list[Sink] = []
    if spec.stdout if stdout is None else stdout:
        sinks.append(StdoutSink(console, as_json=as_json))
    sinks += [WebhookSink(w) for w in spec.webhook]
    sinks += [EmailSink(e) for e in spec.email]
    sinks += [CommandSink(c) for c in spec.command]
    return sinks


class Dispatcher:
    """Sends each alert to every sink concurrently; audits every delivery attempt."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        audit: AuditLog | None = None,
        metrics: AlertCounter | None = None,
        console: Console | None = None,
    ) -> None:
        self.sinks, self.audit, self.metrics = list(sinks), audit, metrics
        self.console = console or err_console

    async def _deliver(self, sink: Sink, alert: Alert) -> Delivery:
        try:
            await asyncio.wait_for(sink.send(alert), sink.timeout * 2 + 2)
            return sink.channel, True, None
        except AlertDeliveryError as exc:
            return sink.channel, False, str(exc)
        except TimeoutError:
            return sink.channel, False, f"{sink.channel} did not answer in time"
        except Exception as exc:  # one broken sink must not stop the others or the loop
            return sink.channel, False, f"{sink.channel} failed: {type(exc).__name__}"

    async def send(self, alert: Alert) -> list[Delivery]:
        deliveries = list(await asyncio.gather(*(self._deliver(s, alert) for s in self.sinks)))
        for channel, ok, error in deliveries:
            if self.audit is not None:
                self.audit.append(
                    "guard.alert",
                    {
                        "event": alert.event,
                        "target": alert.target,
                        "kind": alert.kind,
                        "state": alert.state,
                        "previous_state": alert.previous,
                        "severity": alert.severity,
                        "channel": channel,
                        "outcome": "delivered" if ok else "failed",
                        "error": error,
                    },
                )
            if self.metrics is not None:
                self.metrics.count_alert(channel.split(" ", 1)[0], ok)
            if not ok:
                self.console.print(
                    f"[yellow]alert not delivered:[/] {escape(str(error))}", highlight=False
                )
        return deliveries

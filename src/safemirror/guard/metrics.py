"""Prometheus metrics of the watch loop and a minimal ``/metrics`` HTTP endpoint."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from safemirror.guard.model import Severity, State
from safemirror.guard.scan import ScanResult, TargetResult

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**pairs: str) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs.items()) + "}"


class GuardMetrics:
    """Holds the latest result per target and counters; renders the text format."""

    def __init__(self) -> None:
        self.latest: dict[str, TargetResult] = {}
        self.sweeps = 0
        self.last_sweep_ts = 0.0
        self.last_sweep_duration = 0.0
        self.alerts: Counter[tuple[str, str]] = Counter()
        self.remediations: Counter[tuple[str, str]] = Counter()

    def observe_sweep(self, scan: ScanResult) -> None:
        self.sweeps += 1
        self.last_sweep_ts = time.time()
        self.last_sweep_duration = scan.duration
        for result in scan.results:
            self.latest[result.target.name] = result

    def observe_result(self, result: TargetResult) -> None:
        self.latest[result.target.name] = result

    def count_alert(self, channel: str, ok: bool) -> None:
        self.alerts[(channel, "delivered" if ok else "failed")] += 1

    def count_remediation(self, target: str, confirmed: bool) -> None:
        self.remediations[(target, "confirmed" if confirmed else "failed")] += 1

    def render(self) -> str:
        out: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")

        family(
            "safemirror_guard_target_state",
            "gauge",
            "1 for the current state of each target (secure, exposed, drift, unreachable).",
        )
        for name, r in sorted(self.latest.items()):
            for state in State:
                labels = _labels(target=name, kind=r.target.kind, state=state.value)
                out.append(f"safemirror_guard_target_state{labels} {int(r.state is state)}")
        family(
            "safemirror_guard_target_exposed",
            "gauge",
            "1 if the target answers without credentials or with default ones.",
        )
        for name, r in sorted(self.latest.items()):
            labels = _labels(target=name, kind=r.target.kind, holds=",".join(r.target.holds))
            out.append(f"safemirror_guard_target_exposed{labels} {int(r.state is State.EXPOSED)}")
        family("safemirror_guard_target_up", "gauge", "1 if the target answered its probe.")
        for name, r in sorted(self.latest.items()):
            up = int(r.observation.error is None)
            out.append(f"safemirror_guard_target_up{_labels(target=name, kind=r.target.kind)} {up}")
        family("safemirror_guard_findings", "gauge", "Current findings by target and severity.")
        for name, r in sorted(self.latest.items()):
            counts = Counter(f.severity for f in r.findings)
            for sev in Severity:
                out.append(
                    f"safemirror_guard_findings{_labels(target=name, severity=sev.label)}"
                    f" {counts.get(sev, 0)}"
                )
        family("safemirror_guard_probe_duration_seconds", "gauge", "Duration of the last probe.")
        for name, r in sorted(self.latest.items()):
            out.append(
                f"safemirror_guard_probe_duration_seconds{_labels(target=name)} {r.duration:.6f}"
            )
        family("safemirror_guard_sweeps_total", "counter", "Sweeps completed.")
        out.append(f"safemirror_guard_sweeps_total {self.sweeps}")
        family("safemirror_guard_last_sweep_timestamp_seconds", "gauge", "End of the last sweep.")
        out.append(f"safemirror_guard_last_sweep_timestamp_seconds {self.last_sweep_ts:.3f}")
        family("safemirror_guard_last_sweep_duration_seconds", "gauge", "Last sweep's duration.")
        out.append(f"safemirror_guard_last_sweep_duration_seconds {self.last_sweep_duration:.6f}")
        family("safemirror_guard_alerts_total", "counter", "Alert deliveries by channel/outcome.")
        for (channel, outcome), n in sorted(self.alerts.items()):
            out.append(
                f"safemirror_guard_alerts_total{_labels(channel=channel, outcome=outcome)} {n}"
            )
        family("safemirror_guard_remediations_total", "counter", "Remediations by outcome.")
        for (target, outcome), n in sorted(self.remediations.items()):
            out.append(
                f"safemirror_guard_remediations_total{_labels(target=target, outcome=outcome)} {n}"
            )
        return "\n".join(out) + "\n"


class MetricsServer:
    """Serves ``GET /metrics`` (anything else: 404) on ``host:port``; port 0 picks one."""

    def __init__(self, metrics: GuardMetrics, host: str = "127.0.0.1", port: int = 9464) -> None:
        self.metrics, self.host, self.port = metrics, host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            method, _, rest = request.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method in {"GET", "HEAD"} and path == "/metrics":
                body, status, ctype = self.metrics.render().encode(), "200 OK", CONTENT_TYPE
            else:
                body, status, ctype = b"not found\n", "404 Not Found", "text/plain"
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            writer.write(head + (body if method != "HEAD" else b""))
            await asyncio.wait_for(writer.drain(), 5.0)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            writer.close()

"""The watch loop: time to detect, alerts received by real local listeners (webhook, SMTP,
command hook), Prometheus /metrics, remediation with a confirming re-probe, audit trail."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from safemirror.audit import AuditLog
from safemirror.guard import targets as targets_mod
from safemirror.guard.alerts import Dispatcher, build_sinks
from safemirror.guard.alerts.base import Alert
from safemirror.guard.alerts.sinks import WebhookSink
from safemirror.guard.metrics import GuardMetrics, MetricsServer
from safemirror.guard.model import Finding
from safemirror.guard.spec import WebhookSpec
from safemirror.guard.watch import Watcher
from tests.conftest import free_port, require
from tests.guard.guard_fakes import SafemirrorStandin, SmtpReceiver, WebhookReceiver, wait_until
from tests.guard.guard_support import launch_redis, targets_file
from tests.guard.guard_tcp import Blackhole

pytestmark = pytest.mark.services

INTERVAL = 2.0
SECRET = "Rem3diation-s3cret"
TOKEN_PATH = "/hooks/T0KEN-in-the-path"


class WatchThread:
    """A Watcher (and its /metrics server) running in a thread with its own event loop."""

    def __init__(
        self,
        tfile: targets_mod.TargetsFile,
        audit: Path,
        *,
        interval: float = INTERVAL,
        metrics_port: int | None = None,
    ) -> None:
        self.audit = AuditLog(audit)
        self.metrics = GuardMetrics()
        self.out = StringIO()
        sinks = build_sinks(tfile.alerts, console=Console(file=self.out, width=200))
        self.watcher = Watcher(
            tfile,
            dispatcher=Dispatcher(sinks, self.audit, self.metrics),
            audit=self.audit,
            metrics=self.metrics,
            interval=interval,
        )
        self.metrics_port = metrics_port
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self._main(),), daemon=True
        )

    async def _main(self) -> None:
        self.stop_event = asyncio.Event()
        server = MetricsServer(self.metrics, "127.0.0.1", self.metrics_port or 0)
        await server.start()
        try:
            await self.watcher.run(self.stop_event)
        finally:
            await server.stop()

    def __enter__(self) -> WatchThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(15)


def hook_command(out: Path) -> list[str]:
    code = (
        "import json, sys, os; alert = json.load(sys.stdin); "
        "target = os.environ['SAFEMIRROR_ALERT_TARGET']; "
        "open(sys.argv[1], 'a').write(alert['event'] + ' ' + target + '\\n')"
    )
    return [sys.executable, "-c", code, str(out)]


def audit_kinds(path: Path) -> list[tuple[str, dict[str, Any]]]:
    return [(e.kind, e.data) for e in AuditLog(path).entries()]


def test_time_to_detect_and_every_alert_channel(tmp_path: Path) -> None:
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    port, metrics_port = free_port(), free_port()
    hook = WebhookReceiver()
    smtp = SmtpReceiver()
    hook_out = tmp_path / "hook.log"
    path = targets_file(
        tmp_path / "targets.yaml",
        [
            {
                "name": "cache",
                "kind": "redis",
                "address": f"127.0.0.1:{port}",
                "holds": ["pii"],
                "timeout": 1,
            },
        ],
        alerts={
            "webhook": {"url": hook.url + TOKEN_PATH, "timeout": 3},
            "email": {
                "host": "127.0.0.1",
                "port": smtp.port,
                "sender": "guard@example.test",
                "to": ["oncall@example.test"],
                "timeout": 5,
            },
            "command": {"command": hook_command(hook_out), "timeout": 10},
        },
    )
    tfile = targets_mod.load(path)
    audit = tmp_path / "audit.jsonl"
    redis = None
    try:
        with WatchThread(tfile, audit, metrics_port=metrics_port) as watch:
            assert wait_until(lambda: "unreachable" in hook.events(), 10), hook.events()

            redis = launch_redis(port=port).wait()  # a password-less Redis on a listed port
            opened = time.monotonic()
            assert wait_until(lambda: "exposed" in hook.events(), INTERVAL + 5), hook.events()
            detected = next(t for t, body, _ in hook.received if body["event"] == "exposed")
            assert detected - opened <= INTERVAL + 2, f"took {detected - opened:.2f} s"

            body = next(b for _, b, _ in hook.received if b["event"] == "exposed")
            assert body["target"] == "cache" and body["severity"] == "critical"
            assert body["previous_state"] == "unreachable" and body["state"] == "exposed"
            assert body["findings"][0]["check"] == "no-auth"

            mail = wait_until(lambda: [m for m in smtp.messages if "EXPOSED" in m[3]["Subject"]], 5)
            assert mail, [m[3]["Subject"] for m in smtp.messages]
            _, sender, rcpts, message = mail[0]
            assert (sender, rcpts) == ("guard@example.test", ["oncall@example.test"])
            assert message["Subject"].startswith("[safemirror guard] EXPOSED [critical] cache")
            assert "answers INFO without AUTH" in message.get_payload()

            assert wait_until(
                lambda: hook_out.exists() and "exposed cache" in hook_out.read_text(), 5
            )

            scrape = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
            assert scrape.status_code == 200
            assert scrape.headers["content-type"].startswith("text/plain; version=0.0.4")
            assert (
                'safemirror_guard_target_exposed{target="cache",kind="redis",holds="pii"} 1'
                in scrape.text
            )
            assert (
                'safemirror_guard_alerts_total{channel="webhook",outcome="delivered"}'
                in scrape.text
            )
            assert httpx.get(f"http://127.0.0.1:{metrics_port}/other", timeout=5).status_code == 404

            # back to secure: turn authentication on
            subprocess.run(
                ["redis-cli", "-p", str(port), "CONFIG", "SET", "requirepass", SECRET],
                check=True,
                capture_output=True,
                timeout=10,
            )
            assert wait_until(lambda: "resolved" in hook.events(), INTERVAL + 5), hook.events()
            assert "RESOLVED cache" in watch.out.getvalue()
    finally:
        if redis is not None:
            redis.stop()
        hook.stop()
        smtp.stop()

    assert AuditLog(audit).verify().ok
    entries = audit_kinds(audit)
    kinds = [k for k, _ in entries]
    assert kinds[0] == "guard.watch" and kinds[-1] == "guard.watch"
    assert any(k == "guard.finding" and d["check"] == "no-auth" for k, d in entries)
    assert any(k == "guard.resolved" for k, _ in entries)
    channels = {
        d["channel"] for k, d in entries if k == "guard.alert" and d["outcome"] == "delivered"
    }
    assert channels == {
        "stdout",
        f"webhook http://127.0.0.1:{hook.port}",
        f"email 127.0.0.1:{smtp.port}",
        "command " + Path(sys.executable).name,
    }
    text = audit.read_text()
    assert "T0KEN" not in text and SECRET not in text


def run_sweeps(
    tfile: targets_mod.TargetsFile, audit: Path, sweeps: int, hook: WebhookReceiver
) -> Watcher:
    sinks = build_sinks(tfile.alerts, stdout=False)
    log = AuditLog(audit)
    watcher = Watcher(tfile, dispatcher=Dispatcher(sinks, log), audit=log, interval=0.5)
    asyncio.run(watcher.run(max_sweeps=sweeps))
    return watcher


def test_remediation_is_confirmed_by_a_reprobe(tmp_path: Path) -> None:
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    redis = launch_redis().wait()
    hook = WebhookReceiver()
    try:
        fix = ["redis-cli", "-p", str(redis.port), "CONFIG", "SET", "requirepass", SECRET]
        path = targets_file(
            tmp_path / "t.yaml",
            [
                {
                    "name": "cache",
                    "kind": "redis",
                    "address": f"127.0.0.1:{redis.port}",
                    "holds": ["pii"],
                    "remediate": {"command": fix, "confirm_within": 5},
                },
            ],
            alerts={"webhook": {"url": hook.url}},
        )
        watcher = run_sweeps(targets_mod.load(path), tmp_path / "audit.jsonl", 2, hook)
    finally:
        redis.stop()
        hook.stop()
    assert hook.events() == ["exposed", "remediated"]
    remediated = hook.received[1][1]
    assert remediated["state"] == "secure" and remediated["previous_state"] == "exposed"
    assert "ran redis-cli" in remediated["note"]
    entries = audit_kinds(tmp_path / "audit.jsonl")
    record = next(d for k, d in entries if k == "guard.remediation")
    assert record["confirmed"] is True and record["program"] == "redis-cli"
    assert record["state_after"] == "secure" and record["error"] is None
    assert watcher.metrics.remediations[("cache", "confirmed")] == 1
    assert SECRET not in (tmp_path / "audit.jsonl").read_text()
    assert all(SECRET not in json.dumps(body) for _, body, _ in hook.received)


def test_failed_remediation_alerts_and_is_not_retried_forever(tmp_path: Path) -> None:
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    redis = launch_redis().wait()
    hook = WebhookReceiver()
    try:
        path = targets_file(
            tmp_path / "t.yaml",
            [
                {
                    "name": "cache",
                    "kind": "redis",
                    "address": f"127.0.0.1:{redis.port}",
                    "remediate": {"command": ["false"], "confirm_within": 0.5},
                },
            ],
            alerts={"webhook": {"url": hook.url}},
        )
        watcher = run_sweeps(targets_mod.load(path), tmp_path / "audit.jsonl", 3, hook)
    finally:
        redis.stop()
        hook.stop()
    assert hook.events() == ["exposed", "remediation-failed"]
    record = next(d for k, d in audit_kinds(tmp_path / "audit.jsonl") if k == "guard.remediation")
    assert record["confirmed"] is False and record["error"] == "'false' exited with 1"
    assert watcher.metrics.remediations[("cache", "failed")] == 1  # max_attempts: 1


def test_safemirror_lockdown_remediation(tmp_path: Path) -> None:
    lock = tmp_path / "lockdown"
    standin = SafemirrorStandin(lock, open_=True)
    hook = WebhookReceiver()
    try:
        path = targets_file(
            tmp_path / "t.yaml",
            [
                {
                    "name": "api",
                    "kind": "safemirror",
                    "address": standin.url,
                    "holds": ["pii"],
                    "remediate": {"command": ["touch", str(lock)], "confirm_within": 5},
                },
            ],
            alerts={"webhook": {"url": hook.url}},
        )
        run_sweeps(targets_mod.load(path), tmp_path / "audit.jsonl", 1, hook)
    finally:
        standin.stop()
        hook.stop()
    assert hook.events() == ["exposed", "remediated"]
    assert hook.received[0][1]["severity"] == "critical"


def test_failed_webhook_is_audited_and_does_not_stop_the_loop(tmp_path: Path) -> None:
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    redis = launch_redis().wait()
    broken = WebhookReceiver(status=500)
    try:
        path = targets_file(
            tmp_path / "t.yaml",
            [
                {"name": "cache", "kind": "redis", "address": f"127.0.0.1:{redis.port}"},
            ],
            alerts={"webhook": {"url": broken.url, "timeout": 2}},
        )
        watcher = run_sweeps(targets_mod.load(path), tmp_path / "audit.jsonl", 2, broken)
    finally:
        redis.stop()
        broken.stop()
    assert len(broken.received) == 2  # one retry
    assert watcher.sweeps == 2
    alert = next(d for k, d in audit_kinds(tmp_path / "audit.jsonl") if k == "guard.alert")
    assert alert["outcome"] == "failed" and "HTTP 500" in alert["error"]


def test_webhook_alerts_load_the_ca_bundle_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle blocks the event loop the watch's probes share (a third of a
    second on a busy machine): alerts are posted with one context, not a new one each."""
    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    hook = WebhookReceiver()
    sink = WebhookSink(WebhookSpec(url=hook.url + TOKEN_PATH))
    alert = Alert(
        "exposed", "cache", "redis", "127.0.0.1:6379", ("pii",), "exposed", None, None, ()
    )

    async def three() -> None:
        for _ in range(3):
            await sink.send(alert)

    try:
        asyncio.run(three())
    finally:
        hook.stop()
    assert hook.events() == ["exposed"] * 3
    assert len(loads) <= 1, loads


def test_an_unexpected_error_does_not_end_the_watch(tmp_path: Path, monkeypatch: Any) -> None:
    from safemirror.guard import watch as watch_mod

    real, calls = watch_mod.sweep, []

    async def flaky(targets: Any, ctx: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return await real(targets, ctx)

    monkeypatch.setattr(watch_mod, "sweep", flaky)
    hook = WebhookReceiver()
    try:
        path = targets_file(
            tmp_path / "t.yaml",
            [
                {"name": "gone", "kind": "redis", "address": f"127.0.0.1:{free_port()}"},
            ],
            alerts={"webhook": {"url": hook.url}},
        )
        watcher = run_sweeps(targets_mod.load(path), tmp_path / "audit.jsonl", 2, hook)
    finally:
        hook.stop()
    assert len(calls) == 2 and watcher.sweeps == 2
    assert hook.events() == ["unreachable"]
    errors = [d for k, d in audit_kinds(tmp_path / "audit.jsonl") if k == "guard.error"]
    assert errors == [{"sweep": 1, "error": "RuntimeError: boom"}]


def test_a_store_gaining_keys_is_the_same_finding(tmp_path: Path) -> None:
    """A live cache's key count moves every sweep: that is neither a "changed" alert nor a
    new finding in the audit log (nor a new SARIF fingerprint), only new details."""
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    redis = launch_redis().wait()
    hook = WebhookReceiver()
    try:
        path = targets_file(
            tmp_path / "t.yaml",
            [{"name": "cache", "kind": "redis", "address": f"127.0.0.1:{redis.port}"}],
            alerts={"webhook": {"url": hook.url}},
        )
        log = AuditLog(tmp_path / "audit.jsonl")
        watcher = Watcher(
            targets_mod.load(path),
            dispatcher=Dispatcher(build_sinks(targets_mod.load(path).alerts, stdout=False), log),
            audit=log,
        )

        async def sweeps() -> list[Finding]:
            found = []
            for n in range(3):
                scan = await watcher.sweep_once()
                found.append(scan.results[0].findings[0])
                subprocess.run(
                    ["redis-cli", "-p", str(redis.port), "SET", f"k{n}", "v"],
                    check=True,
                    capture_output=True,
                    timeout=10,
                )
            return found

        tops = asyncio.run(sweeps())
    finally:
        redis.stop()
        hook.stop()
    assert [f.detail for f in tops] == [
        f"answers INFO without AUTH (standalone, {n} keys)" for n in range(3)
    ]
    assert hook.events() == ["exposed"]  # one alert, not one per sweep
    found = [d for k, d in audit_kinds(tmp_path / "audit.jsonl") if k == "guard.finding"]
    assert [d["check"] for d in found] == ["no-auth", "version-disclosed"]
    assert not [k for k, _ in audit_kinds(tmp_path / "audit.jsonl") if k == "guard.resolved"]
    assert {f.key for f in tops} == {"cache:no-auth:answers INFO without AUTH"}


def test_a_store_that_stays_down_is_one_alert_whatever_the_reason(tmp_path: Path) -> None:
    """Refused one sweep, silent the next, refused again: the target stays unreachable,
    which is one alert and one finding, not a "changed" alert per sweep."""
    port = free_port()
    hook = WebhookReceiver()
    try:
        path = targets_file(
            tmp_path / "t.yaml",
            [{"name": "db", "kind": "nats", "address": f"127.0.0.1:{port}", "timeout": 0.5}],
            alerts={"webhook": {"url": hook.url}},
        )
        log = AuditLog(tmp_path / "audit.jsonl")
        tfile = targets_mod.load(path)
        watcher = Watcher(
            tfile, dispatcher=Dispatcher(build_sinks(tfile.alerts, stdout=False), log), audit=log
        )

        async def sweeps() -> list[str]:
            details = [(await watcher.sweep_once()).results[0].findings[0].detail]
            hole = Blackhole(port=port)  # the host now drops packets
            try:
                details.append((await watcher.sweep_once()).results[0].findings[0].detail)
            finally:
                hole.stop()
            details.append((await watcher.sweep_once()).results[0].findings[0].detail)
            return details

        details = asyncio.run(sweeps())
    finally:
        hook.stop()
    assert details == ["connection refused", "no TCP answer within 0.5 s", "connection refused"]
    assert hook.events() == ["unreachable"]
    kinds = [k for k, _ in audit_kinds(tmp_path / "audit.jsonl")]
    assert kinds.count("guard.finding") == 1 and "guard.resolved" not in kinds

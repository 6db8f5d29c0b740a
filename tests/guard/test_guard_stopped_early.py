"""Fail closed: an exposure a probe established stays reported when a later step fails (a
reset, a stall, the budget running out); the failure is a note. A target where nothing
was established is still ``unreachable``.

The machine's own stores (MariaDB, RabbitMQ, PostgreSQL, Redis, Mosquitto) sit behind a
proxy that resets or stalls on cue; the RabbitMQ management API is a stand-in that answers
the anonymous request with 401 and then resets, hangs or trickles."""

from __future__ import annotations

import asyncio
import errno
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from safemirror.audit import AuditLog
from safemirror.errors import ExitCode
from safemirror.guard import targets as targets_mod
from safemirror.guard.alerts import Dispatcher, build_sinks
from safemirror.guard.cli import guard_app
from safemirror.guard.model import State
from safemirror.guard.scan import TargetResult
from safemirror.guard.watch import Watcher
from tests.conftest import port_open, require
from tests.guard.guard_fakes import HttpThread
from tests.guard.guard_proxy import PASS, Management, Plan, TcpProxy, reset
from tests.guard.guard_support import HOST, probe, targets_file
from tests.guard.guard_tcp import TcpServer

pytestmark = pytest.mark.services

TIMEOUT = 1.0


def needs(port: int, name: str) -> None:
    require(port_open(HOST, port), f"{name} is not listening on {HOST}:{port}")


@pytest.fixture
def proxies() -> Iterator[list[TcpProxy]]:
    started: list[TcpProxy] = []
    yield started
    for proxy in started:
        proxy.stop()


def proxy(proxies: list[TcpProxy], upstream: int, *plans: Plan) -> TcpProxy:
    started = TcpProxy(upstream, plans)
    proxies.append(started)
    return started


def scan_one(kind: str, port: int, **entry: Any) -> TargetResult:
    return probe(
        {
            "name": f"{kind}-behind-proxy",
            "kind": kind,
            "address": f"{HOST}:{port}",
            "holds": ["pii"],
            "timeout": TIMEOUT,
            **entry,
        }
    )


def stopped_early(result: TargetResult, check: str, detail: str, reason: str) -> None:
    """Reported with its exposure, the failure as a note, no `unreachable` finding."""
    assert result.observation.error is None, result.observation.error
    assert [f.check for f in result.findings if f.check == check], result.findings
    assert any(detail in f.detail for f in result.findings if f.check == check), result.findings
    assert "unreachable" not in {f.check for f in result.findings}
    notes = [n for n in result.observation.notes if n.startswith("probe stopped early: ")]
    assert len(notes) == 1 and reason in notes[0], result.observation.notes


# --- MariaDB ------------------------------------------------------------------------------


def test_mysql_root_let_in_then_next_connection_reset(proxies: list[TcpProxy]) -> None:
    needs(3306, "MariaDB")
    front = proxy(proxies, 3306, PASS, Plan(reset=True))
    result = scan_one("mysql", front.port)  # root (let in), then the anonymous user (reset)
    assert result.state is State.EXPOSED
    stopped_early(
        result, "no-auth", "lets user 'root' in with an empty password", "connection lost"
    )
    assert result.observation.metadata["databases"] >= 1
    assert front.accepted == 2


def test_a_reset_that_wins_the_race_with_connect_reads_as_the_same_loss(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that resets at once can do so before the client has seen its connect
    complete (the kernel then reports ECONNRESET from connect itself). That is the same
    event as the reset above, so it gets the same verdict and note, however the race fell."""
    needs(3306, "MariaDB")
    real = asyncio.open_connection
    calls = 0

    async def second_connect_reset(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(errno.ECONNRESET, f"Connect call failed ('{HOST}', 3306)")
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "open_connection", second_connect_reset)
    result = scan_one("mysql", 3306)
    assert result.state is State.EXPOSED
    stopped_early(
        result, "no-auth", "lets user 'root' in with an empty password", "connection lost"
    )
    assert calls == 2


def test_mysql_budget_running_out_after_root_keeps_the_exposure(
    proxies: list[TcpProxy],
) -> None:
    """Every answer 0.3 s late: each step is well within the 1 s timeout, the whole probe
    (root let in, then six more users refused, 15 answers: 4.5 s) is not within its 3 s
    budget."""
    needs(3306, "MariaDB")
    front = proxy(proxies, 3306, Plan(delay=0.3 * TIMEOUT))
    users = ["root", *(f"no-such-guard-user-{i}" for i in range(6))]
    result = scan_one("mysql", front.port, settings={"users": users})
    assert result.state is State.EXPOSED
    stopped_early(
        result, "no-auth", "lets user 'root' in", f"no complete answer within {3 * TIMEOUT:g} s"
    )


def test_mysql_stalling_after_the_login_still_reports_root(proxies: list[TcpProxy]) -> None:
    """The login goes through; SHOW DATABASES is never answered."""
    needs(3306, "MariaDB")
    front = proxy(proxies, 3306, Plan(requests=1))
    result = scan_one("mysql", front.port, settings={"users": ["root"]})
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "lets user 'root' in", "no answer within")
    assert result.findings[0].detail.endswith("(? databases)")


def test_nothing_established_is_still_unreachable(proxies: list[TcpProxy]) -> None:
    needs(3306, "MariaDB")
    front = proxy(proxies, 3306, PASS, Plan(reset=True))
    result = scan_one("mysql", front.port, settings={"users": ["no-such-guard-user", "root"]})
    assert result.state is State.UNREACHABLE
    assert [f.check for f in result.findings] == ["unreachable"]
    assert "connection lost" in (result.observation.error or "")


# --- RabbitMQ -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("reset", "management API did not answer: connection lost"),
        ("hang", f"management API did not answer: no complete answer within {TIMEOUT:g} s"),
        ("trickle", f"management API did not answer: no complete answer within {TIMEOUT:g} s"),
    ],
)
def test_amqp_guest_login_survives_a_failing_management_api(mode: str, reason: str) -> None:
    needs(5672, "RabbitMQ")
    management = Management(mode)
    try:
        result = scan_one("amqp", 5672, settings={"management_url": management.url})
    finally:
        management.stop()
    assert result.state is State.EXPOSED
    stopped_early(result, "default-credentials", "AMQP accepts user 'guest'", reason)


def test_amqp_stalling_after_the_login_still_reports_guest(proxies: list[TcpProxy]) -> None:
    """The broker accepts guest/guest (Connection.Tune); the vhost Open never gets there."""
    needs(5672, "RabbitMQ")
    front = proxy(proxies, 5672, Plan(requests=2))  # protocol header, StartOk
    result = scan_one("amqp", front.port, settings={"check_management": False})
    assert result.state is State.EXPOSED
    stopped_early(
        result,
        "default-credentials",
        "AMQP accepts user 'guest' with its default password",
        "no answer within",
    )


# --- PostgreSQL, Redis, Mosquitto ----------------------------------------------------------


def test_postgres_trust_then_a_stalled_database_list(proxies: list[TcpProxy]) -> None:
    needs(5432, "PostgreSQL")
    front = proxy(proxies, 5432, PASS, Plan(requests=1))  # SSLRequest; startup only
    result = scan_one("postgres", front.port)
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "lets user 'postgres' in without a password", "no answer")


def test_redis_open_then_a_stalled_keyspace_question(proxies: list[TcpProxy]) -> None:
    needs(6379, "Redis")
    front = proxy(proxies, 6379, Plan(requests=1))  # INFO server only
    result = scan_one("redis", front.port)
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "answers INFO without AUTH", "no answer within")
    assert result.findings[0].detail.endswith("? keys)")


def test_redis_answering_ping_then_a_malformed_dbsize() -> None:
    """A canned server (INFO disabled, PING answered, then a reply that is not RESP)."""
    server = TcpServer(reply=b"-ERR unknown command 'INFO'\r\n+PONG\r\n$x\r\n")
    try:
        result = scan_one("redis", server.port)
    finally:
        server.stop()
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "answers PING without AUTH", "unexpected answer")


def test_mqtt_anonymous_connect_then_a_stalled_subscribe(proxies: list[TcpProxy]) -> None:
    needs(1883, "Mosquitto")
    front = proxy(proxies, 1883, Plan(requests=1))  # CONNECT only
    start = time.monotonic()
    result = scan_one("mqtt", front.port)
    assert result.state is State.DRIFT
    stopped_early(result, "anonymous-limited", "accepts anonymous connections", "no answer")
    assert time.monotonic() - start < 3 * TIMEOUT + 1


# --- HTTP ---------------------------------------------------------------------------------


def test_http_open_path_survives_a_later_path_reset() -> None:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/open":
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            else:
                reset(self.connection)
                self.close_connection = True

    server = HttpThread(Handler)
    try:
        result = probe(
            {
                "name": "admin-ui",
                "kind": "http",
                "address": server.url,
                "timeout": TIMEOUT,
                "settings": {"paths": ["/open", "/broken"]},
            }
        )
    finally:
        server.stop()
    assert result.state is State.EXPOSED
    stopped_early(result, "no-auth", "answers without credentials on /open", "connection lost")


# --- the note in every report format and in watch alerts ----------------------------------


def test_the_stopped_early_note_shows_in_the_table_sarif_and_watch_alerts(
    tmp_path: Path,
) -> None:
    """Not only in `-f json`: a report that hides that the probe stopped part-way reads as
    complete when it is not."""
    server = TcpServer(reply=b"-ERR unknown command 'INFO'\r\n+PONG\r\n$x\r\n")
    entry = {"name": "cache", "kind": "redis", "address": f"{HOST}:{server.port}"}
    targets = targets_file(tmp_path / "targets.yaml", [{**entry, "timeout": TIMEOUT}])
    audit = str(tmp_path / "audit.jsonl")
    sarif_path = tmp_path / "guard.sarif"
    out = StringIO()
    try:
        table = CliRunner().invoke(
            guard_app, ["scan", "-t", str(targets), "--audit-log", audit], env={"COLUMNS": "250"}
        )
        CliRunner().invoke(
            guard_app,
            [
                "scan",
                "-t",
                str(targets),
                "-f",
                "sarif",
                "-o",
                str(sarif_path),
                "--audit-log",
                audit,
            ],
        )
        tfile = targets_mod.load(targets)
        sinks = build_sinks(tfile.alerts, console=Console(file=out, width=250), stdout=True)
        json_sink = build_sinks(tfile.alerts, console=Console(file=out, width=250), as_json=True)
        watcher = Watcher(
            tfile, dispatcher=Dispatcher(sinks + json_sink), audit=AuditLog(tmp_path / "w.jsonl")
        )
        asyncio.run(watcher.sweep_once())
    finally:
        server.stop()
    note = "probe stopped early: unexpected answer"
    assert table.exit_code == ExitCode.FINDINGS, table.output
    assert f"note: {note}" in table.output
    run = json.loads(sarif_path.read_text())["runs"][0]
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["level"] == "warning"
    assert notification["message"]["text"].startswith(f"cache ({HOST}:{server.port}): {note}")
    assert notification["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert all(r["properties"]["notes"][0].startswith(note) for r in run["results"])
    alert = next(json.loads(line) for line in out.getvalue().splitlines() if line[0] == "{")
    assert alert["event"] == "exposed" and alert["note"].startswith(note)
    printed = next(line for line in out.getvalue().splitlines() if "EXPOSED" in line)
    assert f"({note}" in printed

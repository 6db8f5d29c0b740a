"""``safemirror guard`` commands end to end: formats, exit codes, audit log, no secrets."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from click.testing import Result
from typer.testing import CliRunner

from safemirror.audit import AuditLog
from safemirror.errors import ConfigError, ExitCode
from safemirror.guard.cli import guard_app, register
from tests.conftest import require
from tests.guard.guard_support import Server, launch_redis, targets_file

pytestmark = pytest.mark.services

PASSWORD = secrets.token_hex(16)  # a throw-away server's, made anew each run
runner = CliRunner()


@pytest.fixture(scope="module")
def redises() -> Iterator[tuple[Server, Server]]:
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    open_, locked = launch_redis(), launch_redis(PASSWORD)
    try:
        yield open_.wait(), locked.wait()
    finally:
        open_.stop()
        locked.stop()


@pytest.fixture
def targets(tmp_path: Path, redises: tuple[Server, Server]) -> Path:
    open_, locked = redises
    return targets_file(
        tmp_path / "targets.yaml",
        [
            {
                "name": "open-cache",
                "kind": "redis",
                "address": f"127.0.0.1:{open_.port}",
                "holds": ["internal"],
            },
            {
                "name": "locked-cache",
                "kind": "redis",
                "address": f"127.0.0.1:{locked.port}",
                "holds": ["pii"],
            },
        ],
    )


def invoke(*args: str) -> Result:
    return runner.invoke(guard_app, list(args), env={"COLUMNS": "200"})


def test_scan_table_exit_code_and_audit(tmp_path: Path, targets: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    result = invoke("scan", "-t", str(targets), "--audit-log", str(audit))
    assert result.exit_code == ExitCode.FINDINGS, result.output
    assert "open-cache" in result.output and "answers INFO without AUTH" in result.output
    assert "2 targets (1 secure, 1 exposed)" in result.output
    log = AuditLog(audit)
    assert log.verify().ok
    kinds = [e.kind for e in log.entries()]
    assert kinds.count("guard.finding") == 2 and kinds[-1] == "guard.scan"
    assert PASSWORD not in audit.read_text()


def test_scan_threshold(tmp_path: Path, targets: Path) -> None:
    audit = str(tmp_path / "a.jsonl")
    # the open cache holds internal data: high; a critical threshold lets the scan pass
    ok = runner.invoke(
        guard_app, ["scan", "-t", str(targets), "--fail-on", "critical", "--audit-log", audit]
    )
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        guard_app, ["scan", "-t", str(targets), "--fail-on", "loud", "--audit-log", audit]
    )
    assert bad.exception is not None and "unknown severity" in str(bad.exception)


def test_scan_json_and_sarif(tmp_path: Path, targets: Path) -> None:
    audit = str(tmp_path / "a.jsonl")
    result = runner.invoke(
        guard_app, ["scan", "-t", str(targets), "-f", "json", "--audit-log", audit]
    )
    data = json.loads(result.output)
    states = {t["name"]: t["state"] for t in data["targets"]}
    assert states == {"open-cache": "exposed", "locked-cache": "secure"}
    out = tmp_path / "guard.sarif"
    result = runner.invoke(
        guard_app, ["scan", "-t", str(targets), "-f", "sarif", "-o", str(out), "--audit-log", audit]
    )
    assert result.exit_code == ExitCode.FINDINGS
    sarif = json.loads(out.read_text())
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "SMG001" in rules


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_written_report_is_for_its_owner_only(tmp_path: Path, targets: Path, fmt: str) -> None:
    out = tmp_path / f"guard.{fmt}"
    out.write_text("an older report\n")
    out.chmod(0o644)
    audit = str(tmp_path / "a.jsonl")
    umask = os.umask(0)  # the loosest: a plain open would make the report 0666
    try:
        result = runner.invoke(
            guard_app, ["scan", "-t", str(targets), "-f", fmt, "-o", str(out), "--audit-log", audit]
        )
    finally:
        os.umask(umask)
    assert result.exit_code == ExitCode.FINDINGS
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "open-cache" in out.read_text() and "an older report" not in out.read_text()


def test_bad_targets_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("targets:\n  - {name: x, kind: redis}\n")
    result = invoke("scan", "-t", str(path), "--audit-log", str(tmp_path / "a.jsonl"))
    assert isinstance(result.exception, ConfigError)
    assert result.exception.exit_code == ExitCode.USAGE
    assert "targets[0] 'x': address: Field required" in str(result.exception)
    assert not (tmp_path / "a.jsonl").exists()  # nothing ran


def test_watch_command_once_prints_json_alerts(tmp_path: Path, targets: Path) -> None:
    result = runner.invoke(
        guard_app,
        [
            "watch",
            "-t",
            str(targets),
            "--max-sweeps",
            "1",
            "--metrics",
            "off",
            "--json",
            "--audit-log",
            str(tmp_path / "a.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    alerts = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [(a["event"], a["target"]) for a in alerts] == [("exposed", "open-cache")]


def test_probes_validate_and_discover(targets: Path, redises: tuple[Server, Server]) -> None:
    listing = invoke("probes")
    assert listing.exit_code == 0 and "elasticsearch" in listing.output
    detail = invoke("probes", "postgres")
    assert "try_default_credentials" in detail.output and "prod-db" in detail.output
    assert isinstance(invoke("probes", "mongo").exception, Exception)
    valid = invoke("validate", "-t", str(targets))
    assert "2 targets valid" in valid.output
    ours = {server.port for server in redises}
    everything = runner.invoke(guard_app, ["discover", "--all", "-f", "json"])
    assert ours <= {c["port"] for c in json.loads(everything.output)}
    uncovered = runner.invoke(guard_app, ["discover", "--all", "-t", str(targets), "-f", "json"])
    listed = json.loads(uncovered.output)
    assert not ours & {c["port"] for c in listed}
    assert all(c["scope"] in {"loopback", "all interfaces", "private", "public"} for c in listed)
    fragment = runner.invoke(guard_app, ["discover", "-f", "yaml"])
    assert fragment.exit_code == 0 and fragment.output.startswith("targets:")


def test_register_adds_guard_to_a_root_app(targets: Path, tmp_path: Path) -> None:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """root"""

    register(root)
    result = runner.invoke(root, ["guard", "validate", "-t", str(targets)], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "2 targets valid" in result.output


def test_root_command_line_returns_exit_code_8(targets: Path, tmp_path: Path) -> None:
    from safemirror import cli

    if "safemirror.guard.cli" not in cli.CAPABILITIES:
        pytest.skip("guard is not registered in safemirror.cli.CAPABILITIES yet")
    audit = str(tmp_path / "a.jsonl")
    assert cli.run(["guard", "scan", "-t", str(targets), "--audit-log", audit]) == ExitCode.FINDINGS
    assert cli.run(["guard", "scan", "-t", str(tmp_path / "none.yaml")]) == ExitCode.USAGE


def test_watch_stops_cleanly_on_sigterm(tmp_path: Path, targets: Path) -> None:
    """A service manager stops the watch with SIGTERM: the sweep under way ends, the audit
    log records the stop, and the exit code says terminated."""
    audit = tmp_path / "watch.jsonl"
    command = [sys.executable, "-m", "safemirror", "guard", "watch", "-t", str(targets)]
    proc = subprocess.Popen(
        [*command, "--metrics", "off", "--quiet", "--interval", "60", "--audit-log", str(audit)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (audit.exists() and "guard.finding" in audit.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == ExitCode.TERMINATED, err
    assert "terminated" in err
    events = [(e.kind, e.data.get("event")) for e in AuditLog(audit).entries()]
    assert events[-1] == ("guard.watch", "stop")
    assert AuditLog(audit).verify().ok

"""``safemirror keys`` and ``safemirror serve``: keys shown once, loopback-only without TLS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from safemirror.errors import UsageError
from safemirror.server.cli import is_loopback, register
from tests.conftest import free_port, port_open, require
from tests.metrics.world import Production, project_yaml, write_mirror

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def root() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _main() -> None:
        """test root"""

    register(app)
    return app


@pytest.fixture
def project_file(tmp_path: Path) -> Path:
    mirror = write_mirror(Production(n_users=120), tmp_path / "mirror.duckdb")
    return project_yaml(tmp_path, mirror, "sqlite:///unused.db")


def test_keys_create_list_revoke(project_file: Path) -> None:
    config = ["-c", str(project_file)]
    created = runner.invoke(
        root(),
        ["keys", "create", "--role", "analyst", "--name", "ana", "--expires", "30d", *config],
    )
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("smk_")
    listed = runner.invoke(root(), ["keys", "list", "--json", *config])
    items = json.loads(listed.output)
    assert items[0]["name"] == "ana" and items[0]["status"] == "active"
    assert key not in listed.output and key not in (project_file.parent / "keys.json").read_text()
    table = runner.invoke(root(), ["keys", "list", *config])
    assert "ana" in table.output and key not in table.output
    revoked = runner.invoke(root(), ["keys", "revoke", "ana", *config])
    assert revoked.exit_code == 0
    items = json.loads(runner.invoke(root(), ["keys", "list", "--json", *config]).output)
    assert items[0]["status"] == "revoked"
    audit = [
        json.loads(line)["kind"]
        for line in (project_file.parent / "audit.jsonl").read_text().splitlines()
    ]
    assert audit.count("keys.create") == 1 and audit.count("keys.revoke") == 1


def test_keys_reject_bad_input(project_file: Path) -> None:
    config = ["-c", str(project_file)]
    bad_role = runner.invoke(root(), ["keys", "create", "--role", "root", "--name", "x", *config])
    assert isinstance(bad_role.exception, UsageError)
    past = runner.invoke(
        root(),
        ["keys", "create", "--role", "viewer", "--name", "x", "--expires", "2001-01-01", *config],
    )
    assert isinstance(past.exception, UsageError)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_serve_refuses_open_addresses_without_tls(project_file: Path, host: str) -> None:
    result = runner.invoke(root(), ["serve", "--host", host, "-c", str(project_file)])
    assert isinstance(result.exception, UsageError)
    assert "without TLS" in str(result.exception)


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")


SERVE = """
import sys, typer
from safemirror.server.cli import register
app = typer.Typer()
@app.callback()
def main() -> None: pass
register(app)
app(sys.argv[1:])
"""


def start(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, "-c", SERVE, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while not port_open("127.0.0.1", port, 0.2):
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"server did not start: {out}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_serve_on_loopback(project_file: Path) -> None:
    port = free_port()
    proc = start(["serve", "--port", str(port), "-c", str(project_file)])
    try:
        wait_for(port, proc)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/api/health").json() == {"status": "ok"}
        assert httpx.get(base + "/api/metrics").status_code == 401
        assert httpx.get(base + "/openapi.json").status_code == 401
        assert httpx.get(base + "/docs").status_code == 404  # no CDN-backed docs UI
    finally:
        stop(proc)


def test_serve_with_tls_on_any_address(project_file: Path, tmp_path: Path) -> None:
    require(Path("/usr/bin/openssl").exists(), "openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    tls_project = project_yaml(
        tmp_path,
        Path(project_file.parent / "mirror.duckdb"),
        "sqlite:///unused.db",
        tls_cert=str(cert),
        tls_key=str(key),
    )
    port = free_port()
    proc = start(["serve", "--host", "0.0.0.0", "--port", str(port), "-c", str(tls_project)])
    try:
        wait_for(port, proc)
        response = httpx.get(f"https://127.0.0.1:{port}/api/health", verify=False)
        assert response.json() == {"status": "ok"}
        assert httpx.get(f"https://127.0.0.1:{port}/api/me", verify=False).status_code == 401
    finally:
        stop(proc)

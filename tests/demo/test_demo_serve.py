"""``safemirror demo`` ends by serving the mirror on loopback with a fresh admin key."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
KEY_RE = re.compile(r"^(smk_[0-9a-f]{12}_\S+)$", re.MULTILINE)


def start_demo(directory: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "safemirror",
            "demo",
            "--dir",
            str(directory),
            "--scale",
            "0.001",
            "--port",
            str(port),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until_key(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Lines up to the printed key; returns (output so far, key)."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = KEY_RE.match(line.strip())
        if match:
            return "".join(seen), match.group(1)
    proc.kill()
    raise AssertionError("the demo printed no key:\n" + "".join(seen))


def wait_listening(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the demo server exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the demo server never listened")


def stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def test_demo_serves_with_a_fresh_admin_key(tmp_path: Path) -> None:
    directory, port = tmp_path / "demo", free_port()
    proc = start_demo(directory, port)
    try:
        output, key = read_until_key(proc)
        assert f"http://127.0.0.1:{port}/" in output
        wait_listening(port, proc)
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.get(base + "/api/metrics").status_code == 401
        metric = httpx.get(base + "/api/metrics/device_activations", headers=headers, timeout=60)
        assert metric.status_code == 200, metric.text
        assert metric.json()["rows"]
        assert httpx.get(base + "/api/keys", headers=headers).status_code == 200  # admin
    finally:
        assert stop(proc) == 0
    keys_file = (directory / "safemirror-keys.json").read_text()
    assert key not in keys_file  # only the hash is stored
    assert key not in (directory / "safemirror-audit.jsonl").read_text()

    # a second demo run revokes the first demo key and prints a new one
    second = start_demo(directory, port)
    try:
        _, new_key = read_until_key(second)
        wait_listening(port, second)
        base = f"http://127.0.0.1:{port}"
        assert new_key != key
        old = httpx.get(base + "/api/metrics", headers={"Authorization": f"Bearer {key}"})
        assert old.status_code == 401
        new = httpx.get(base + "/api/metrics", headers={"Authorization": f"Bearer {new_key}"})
        assert new.status_code == 200
    finally:
        assert stop(second) == 0


def test_demo_refuses_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start_demo(tmp_path / "demo", port)
        output, _ = proc.communicate(timeout=180)
    assert proc.returncode == 2
    assert "--port" in output and f"127.0.0.1:{port}" in output
    keys = tmp_path / "demo" / "safemirror-keys.json"
    assert not keys.exists() or "demo-admin" not in keys.read_text()  # no unseen key made

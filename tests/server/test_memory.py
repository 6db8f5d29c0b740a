"""Memory: no query can grow the server past its ceiling, and no response past its budget."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from safemirror.config import load_config
from safemirror.errors import ConfigError
from safemirror.server.cli import create_key
from safemirror.server.memcap import memory_bytes, physical_memory
from tests.conftest import free_port
from tests.metrics.world import Production, project_yaml, write_mirror
from tests.server.test_cli import ROOT, start, stop, wait_for


def test_a_value_built_outside_duckdbs_limit_fails_and_the_server_lives(tmp_path: Path) -> None:
    mirror = write_mirror(Production(n_users=60), tmp_path / "mirror.duckdb")
    project = project_yaml(tmp_path, mirror, "sqlite:///unused.db", memory_limit="128MB")
    key = create_key(load_config(project), "analyst", "ana")[1]
    port = free_port()
    proc = start(["serve", "--port", str(port), "-c", str(project)])
    try:
        wait_for(port, proc)
        url, auth = f"http://127.0.0.1:{port}/api/sql", {"Authorization": f"Bearer {key}"}
        for sql in (
            "SELECT length(repeat('x', 2500000000)) AS n",  # one 2.5 GB string
            "SELECT len(list_resize([1], 400000000)) AS n",  # one 3.2 GB list
        ):
            # a worker up and ready first: its start (seconds on a busy machine) is not the
            # bomb's time, and a bomb's worker may be replaced
            warm = httpx.post(url, json={"sql": "SELECT 1 AS n"}, headers=auth, timeout=60)
            assert warm.json()["rows"] == [[1]], warm.text
            t0 = time.monotonic()
            response = httpx.post(url, json={"sql": sql}, headers=auth, timeout=60)
            assert response.status_code == 400, (sql, response.text)
            assert "out of memory" in response.json()["detail"].lower(), response.text
            assert time.monotonic() - t0 < 5, "refused at once, not after building it"
        response = httpx.post(url, json={"sql": "SELECT 42 AS n"}, headers=auth, timeout=10)
        assert response.json()["rows"] == [[42]]
    finally:
        stop(proc)


def test_memory_limit_is_read_as_duckdb_reads_it() -> None:
    assert memory_bytes("1GB") == 10**9 and memory_bytes("1 gb") == 10**9
    assert memory_bytes("512MiB") == 512 << 20 and memory_bytes("2G") == 2 * 10**9
    assert memory_bytes("50%") == physical_memory() // 2
    assert memory_bytes("none") == memory_bytes("80%")
    for bad in ("lots", "1000000", "1e9", "GB", "1 parsec"):
        with pytest.raises(ConfigError, match="not a memory size"):
            memory_bytes(bad)


def test_serve_refuses_a_memory_limit_it_cannot_read(tmp_path: Path) -> None:
    mirror = write_mirror(Production(n_users=20), tmp_path / "mirror.duckdb")
    project = project_yaml(tmp_path, mirror, "sqlite:///unused.db", memory_limit="lots")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "safemirror",
            "serve",
            "--port",
            str(free_port()),
            "-c",
            str(project),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "memory_limit 'lots' is not a memory size" in done.stdout + done.stderr

"""No false positives: our own instances with authentication (and TLS) on are not flagged.

Started once per module, in parallel, on free loopback ports: redis-server --requirepass,
a PostgreSQL cluster from initdb with SCRAM and hostssl only, MariaDB with a root password,
mosquitto with allow_anonymous false, nats-server with a user, password and TLS, and a
private RabbitMQ node with the management plugin and no guest user.
"""

from __future__ import annotations

import secrets
import shutil
import socket
from collections.abc import Iterator

import httpx
import pytest

from safemirror.guard.model import Severity, State
from tests.conftest import require
from tests.guard.guard_support import (
    Server,
    checks,
    launch_mariadb,
    launch_mosquitto,
    launch_nats,
    launch_postgres,
    launch_rabbitmq,
    launch_redis,
    pg_bindir,
    probe,
)

pytestmark = pytest.mark.services

PASSWORD = secrets.token_hex(16)  # the throw-away servers', made anew each run

LAUNCHERS = {
    "redis": (lambda: launch_redis(PASSWORD), "redis-server"),
    # no password, only INFO and CONFIG disabled: "hardened" by renaming, still open
    "redis-renamed": (lambda: launch_redis(renamed=("INFO", "CONFIG")), "redis-server"),
    "postgres": (lambda: launch_postgres(PASSWORD, tls=True), "openssl"),
    "mariadb": (lambda: launch_mariadb(PASSWORD), "mariadbd"),
    "mosquitto": (lambda: launch_mosquitto(anonymous=False), "mosquitto"),
    "nats": (lambda: launch_nats("guard", PASSWORD, tls=True), "nats-server"),
    "rabbitmq": (lambda: launch_rabbitmq(PASSWORD), "rabbitmq-server"),
}


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        for name, (launch, binary) in LAUNCHERS.items():
            if shutil.which(binary) and (name != "postgres" or pg_bindir()):
                started[name] = launch()
        for name, server in started.items():
            server.wait(60 if name == "rabbitmq" else 30)
        if "rabbitmq" in started:
            rabbit = started["rabbitmq"]
            rabbit.wait(60, port=rabbit.extra["management_port"])
        yield started
    finally:
        for server in started.values():
            server.stop()


def server(servers: dict[str, Server], name: str) -> Server:
    require(name in servers, f"{LAUNCHERS[name][1]} is not installed")
    return servers[name]


def assert_secure(result: object) -> None:
    from safemirror.guard.scan import TargetResult

    assert isinstance(result, TargetResult)
    serious = [f for f in result.findings if f.severity > Severity.INFO]
    assert not serious, serious
    assert result.state is State.SECURE
    assert result.observation.auth_required is True


def test_redis_with_requirepass(servers: dict[str, Server]) -> None:
    port = server(servers, "redis").port
    result = probe({"name": "r", "kind": "redis", "address": f"127.0.0.1:{port}", "holds": ["pii"]})
    assert_secure(result)
    assert result.observation.version is None  # nothing disclosed before AUTH


def test_redis_with_info_renamed_but_no_password_is_exposed(servers: dict[str, Server]) -> None:
    """Disabling INFO hides the version, not the data: PING answers without AUTH."""
    port = server(servers, "redis-renamed").port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        assert conn.recv(64) == b"+OK\r\n"
    result = probe({"name": "r", "kind": "redis", "address": f"127.0.0.1:{port}", "holds": ["pii"]})
    assert result.state is State.EXPOSED
    assert result.observation.auth_required is False
    top = result.findings[0]
    assert top.check == "no-auth" and top.severity is Severity.CRITICAL
    assert "1 keys" in top.detail and result.observation.metadata["keys"] == 1


def test_postgres_scram_over_required_tls(servers: dict[str, Server]) -> None:
    port = server(servers, "postgres").port
    entry = {
        "name": "pg",
        "kind": "postgres",
        "address": f"127.0.0.1:{port}",
        "holds": ["pii"],
        "expect": {"tls": "required"},
    }
    result = probe(entry)
    assert_secure(result)
    obs = result.observation
    assert (obs.tls_offered, obs.tls_required) == (True, True)
    assert any("scram" in n for n in obs.notes)


def test_postgres_default_password_is_found_over_tls(servers: dict[str, Server]) -> None:
    import psycopg

    port = server(servers, "postgres").port
    dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=require"
    with psycopg.connect(dsn, password=PASSWORD, autocommit=True) as conn:
        conn.execute("ALTER USER postgres PASSWORD 'postgres'")
    try:
        result = probe(
            {"name": "pg", "kind": "postgres", "address": f"127.0.0.1:{port}", "holds": ["pii"]}
        )
    finally:
        with psycopg.connect(dsn, password="postgres", autocommit=True) as conn:
            conn.execute(f"ALTER USER postgres PASSWORD '{PASSWORD}'")
    assert result.state is State.EXPOSED
    top = result.findings[0]
    assert top.check == "default-credentials" and top.severity is Severity.CRITICAL
    assert "postgres" in result.observation.metadata["database_names"]
    assert result.observation.version and "'postgres'" in top.detail


def test_plaintext_store_breaks_a_tls_baseline(servers: dict[str, Server]) -> None:
    """A store that accepts plaintext breaks an `expect.tls: required` baseline."""
    require("redis" in servers, "redis-server is not installed")
    port = servers["redis"].port
    result = probe(
        {
            "name": "r",
            "kind": "redis",
            "address": f"127.0.0.1:{port}",
            "holds": ["pii"],
            "expect": {"tls": "required"},
        }
    )
    assert checks(result) == {"tls"} and result.state is State.DRIFT
    assert result.findings[0].severity is Severity.HIGH


def test_mariadb_with_root_password(servers: dict[str, Server]) -> None:
    import pymysql

    port = server(servers, "mariadb").port
    result = probe({"name": "m", "kind": "mysql", "address": f"127.0.0.1:{port}", "holds": ["pii"]})
    assert_secure(result)
    assert "version-disclosed" in checks(result)  # the greeting tells the version
    assert len([n for n in result.observation.notes if "refused" in n]) == 2
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password=PASSWORD)
    conn.close()  # sanity: the instance itself works


def test_mosquitto_without_anonymous(servers: dict[str, Server]) -> None:
    port = server(servers, "mosquitto").port
    result = probe({"name": "q", "kind": "mqtt", "address": f"127.0.0.1:{port}", "holds": ["pii"]})
    assert_secure(result)
    assert "not authorized" in result.observation.notes[0]


def test_nats_with_user_and_tls(servers: dict[str, Server]) -> None:
    port = server(servers, "nats").port
    result = probe(
        {
            "name": "n",
            "kind": "nats",
            "address": f"127.0.0.1:{port}",
            "holds": ["pii"],
            "expect": {"tls": "required"},
        }
    )
    assert_secure(result)
    obs = result.observation
    assert (obs.tls_offered, obs.tls_required) == (True, True)
    assert "Authorization Violation" in obs.notes[0]


def test_rabbitmq_without_guest_then_with_guest(servers: dict[str, Server]) -> None:
    rabbit = server(servers, "rabbitmq")
    mgmt = f"http://127.0.0.1:{rabbit.extra['management_port']}"
    entry = {
        "name": "mq",
        "kind": "amqp",
        "address": f"127.0.0.1:{rabbit.port}",
        "holds": ["internal"],
        "settings": {"management_url": mgmt},
        "timeout": 5,
    }
    result = probe(entry)
    assert_secure(result)
    assert result.observation.metadata["management"] == mgmt

    admin = ("admin", PASSWORD)
    httpx.put(
        f"{mgmt}/api/users/guest",
        auth=admin,
        timeout=10,
        json={"password": "guest", "tags": "administrator"},
    ).raise_for_status()
    httpx.put(
        f"{mgmt}/api/permissions/%2F/guest",
        auth=admin,
        timeout=10,
        json={"configure": ".*", "write": ".*", "read": ".*"},
    ).raise_for_status()
    try:
        result = probe(entry)
    finally:
        httpx.delete(f"{mgmt}/api/users/guest", auth=admin, timeout=10)
    details = [f.detail for f in result.findings if f.check == "default-credentials"]
    assert result.state is State.EXPOSED and len(details) == 2
    assert any(d.startswith("AMQP accepts user 'guest'") for d in details)
    assert any(d.startswith("management API accepts user 'guest'") for d in details)
    assert result.findings[0].severity is Severity.HIGH  # holds: internal
    assert "queues" in result.observation.metadata

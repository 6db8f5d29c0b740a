"""The machine's own stores run with default settings: the guard must flag each one.

PostgreSQL (trust), MariaDB (root without password), Redis (no AUTH), RabbitMQ
(guest/guest), Mosquitto (anonymous) and NATS (no auth) on their default loopback ports.
"""

from __future__ import annotations

import pytest

from safemirror.guard.model import Severity, State
from tests.conftest import port_open, require
from tests.guard.guard_support import checks, probe

pytestmark = pytest.mark.services

CASES = [
    ("postgres", 5432, "no-auth", "PostgreSQL", "lets user 'postgres' in without a password"),
    ("mysql", 3306, "no-auth", "MariaDB", "lets user 'root' in with an empty password"),
    ("redis", 6379, "no-auth", "Redis", "answers INFO without AUTH"),
    ("amqp", 5672, "default-credentials", "RabbitMQ", "accepts user 'guest'"),
    ("mqtt", 1883, "no-auth", "mosquitto", "accepts anonymous clients and lets them subscribe"),
    ("nats", 4222, "no-auth", "NATS", "accepts CONNECT without credentials"),
]


@pytest.mark.parametrize(
    ("kind", "port", "check", "product", "detail"), CASES, ids=[c[0] for c in CASES]
)
def test_default_local_service_is_flagged(
    kind: str, port: int, check: str, product: str, detail: str
) -> None:
    require(port_open("127.0.0.1", port), f"{kind} is not listening on 127.0.0.1:{port}")
    result = probe(
        {
            "name": f"local-{kind}",
            "kind": kind,
            "address": f"127.0.0.1:{port}",
            "holds": ["pii"],
            "expect": {"listen": "loopback"},
        }
    )
    assert result.state is State.EXPOSED, result.findings
    top = result.findings[0]
    assert top.check == check and top.severity is Severity.CRITICAL
    assert detail in top.detail
    assert result.observation.product == product and result.observation.version
    assert result.observation.bind == "loopback"
    assert "listen" not in checks(result)
    assert result.duration < 3


def test_postgres_and_mysql_list_database_names_only() -> None:
    require(
        port_open("127.0.0.1", 5432) and port_open("127.0.0.1", 3306),
        "PostgreSQL and MariaDB must listen on their default ports",
    )
    pg = probe({"name": "pg", "kind": "postgres", "address": "127.0.0.1:5432"}).observation
    assert "postgres" in pg.metadata["database_names"]
    assert pg.metadata["databases"] == len(pg.metadata["database_names"])
    my = probe({"name": "my", "kind": "mysql", "address": "127.0.0.1:3306"}).observation
    assert "mysql" in my.metadata["database_names"]
    assert my.tls_required is False and my.version_public


def test_amqp_management_absent_is_noted_not_an_error() -> None:
    require(port_open("127.0.0.1", 5672), "RabbitMQ is not listening on 127.0.0.1:5672")
    if port_open("127.0.0.1", 15672):
        pytest.skip("the management plugin is enabled on this machine")
    result = probe({"name": "mq", "kind": "amqp", "address": "127.0.0.1:5672"})
    assert any("management API not reachable" in n for n in result.observation.notes)
    assert result.observation.metadata["mechanisms"]


def test_queueing_for_default_credentials_does_not_make_stores_unreachable() -> None:
    """Eight instances behind one host share its credential limiter (one attempt at a time,
    0.25 s apart): 16 logins take 4 s, far more than one probe's budget (3 x 0.3 s). The
    wait for a turn is not the store's fault: every one is still found open."""
    from pathlib import Path

    from safemirror.guard import targets as targets_mod
    from safemirror.guard.scan import scan

    require(port_open("127.0.0.1", 3306), "MariaDB is not listening on 127.0.0.1:3306")
    entries = [
        {"name": f"db{i}", "kind": "mysql", "address": "127.0.0.1:3306", "timeout": 0.3}
        for i in range(8)
    ]
    result = scan(targets_mod.validate({"targets": entries}, Path("t.yaml")).targets)
    assert [r.state for r in result.results] == [State.EXPOSED] * 8, [
        r.observation.error for r in result.results
    ]
    assert result.stats["credential_attempts"] == 16

"""Redis set up in ways a default install is not: the default user limited by an ACL but
without a password, and a port that speaks TLS only. Our own throw-away servers."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from safemirror.guard.model import Severity, State
from safemirror.guard.scan import TargetResult
from tests.conftest import require
from tests.guard.guard_support import Server, launch_redis, probe

pytestmark = pytest.mark.services

Launch = Callable[..., Server]


@pytest.fixture
def redis() -> Iterator[Launch]:
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    started: list[Server] = []

    def launch(**options: object) -> Server:
        server = launch_redis(**options)  # type: ignore[arg-type]
        started.append(server)
        return server.wait()

    yield launch
    for server in started:
        server.stop()


def scan_redis(port: int) -> TargetResult:
    return probe({"name": "r", "kind": "redis", "address": f"127.0.0.1:{port}", "holds": ["pii"]})


def test_passwordless_default_user_whose_acl_refuses_info_is_exposed(redis: Launch) -> None:
    """`user default on nopass ~* +@read -info -ping`: INFO and PING answer NOPERM, yet
    every key can be read without AUTH. NOPERM is not "sign in first"."""
    port = redis(acl="on nopass ~* +@read -info -ping").port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"*1\r\n$4\r\nINFO\r\n")
        assert conn.recv(64).startswith(b"-NOPERM")
    result = scan_redis(port)
    assert result.state is State.EXPOSED
    top = result.findings[0]
    assert top.check == "no-auth" and top.severity is Severity.CRITICAL
    assert "DBSIZE without AUTH" in top.detail and "NOPERM" in top.detail
    assert result.observation.auth_required is False


def test_passwordless_default_user_limited_to_ping_is_anonymous_limited(redis: Launch) -> None:
    port = redis(acl="on nopass -@all +ping").port
    result = scan_redis(port)
    assert result.state is State.DRIFT
    top = result.findings[0]
    assert top.check == "anonymous-limited" and top.severity is Severity.HIGH
    assert "default user needs no password" in top.detail


def test_default_user_with_a_password_is_secure(redis: Launch) -> None:
    port = redis(acl=f"on >{secrets.token_hex(16)} ~* +@all").port
    result = scan_redis(port)
    assert result.state is State.SECURE
    assert result.observation.auth_required is True


def test_tls_only_port_is_probed_over_tls(redis: Launch) -> None:
    """A TLS-only port resets a plaintext command without a TLS alert: the probe must
    still retry over TLS and find the open store, not call it unreachable."""
    open_port = redis(tls=True).port
    locked_port = redis(tls=True, password=secrets.token_hex(16)).port
    result = probe(
        {
            "name": "r",
            "kind": "redis",
            "address": f"127.0.0.1:{open_port}",
            "holds": ["pii"],
            "expect": {"tls": "required"},
        }
    )
    assert result.state is State.EXPOSED, result.observation.error
    assert result.findings[0].check == "no-auth"
    assert result.observation.tls_required is True
    assert "tls" not in {f.check for f in result.findings}
    locked = scan_redis(locked_port)
    assert locked.state is State.SECURE, locked.observation.error
    assert locked.observation.auth_required is True


def test_info_ping_and_dbsize_all_disabled_do_not_hide_an_open_store(redis: Launch) -> None:
    """Hardened by renaming INFO, PING and DBSIZE, without a password: any other command
    still runs, and EXISTS of a key no store holds tells so without reading one."""
    renamed = ("INFO", "PING", "DBSIZE")
    open_port = redis(renamed=renamed).port
    locked_port = redis(renamed=renamed, password=secrets.token_hex(16)).port
    result = scan_redis(open_port)
    assert result.state is State.EXPOSED
    assert result.findings[0].check == "no-auth"
    assert "answers EXISTS without AUTH" in result.findings[0].detail
    locked = scan_redis(locked_port)
    assert locked.state is State.SECURE
    assert locked.observation.auth_required is True


@contextlib.contextmanager
def take_the_only_slot(port: int) -> Iterator[socket.socket]:
    """A connection that holds the server's one client slot (once the readiness check's
    own connection has been let go: until then, this one is refused)."""
    deadline = time.monotonic() + 10
    while True:
        conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        conn.sendall(b"*1\r\n$4\r\nPING\r\n")
        if conn.recv(64) == b"+PONG\r\n":
            break
        conn.close()
        assert time.monotonic() < deadline, "the slot was never free"
    with conn:
        yield conn


def test_a_server_out_of_client_slots_is_not_secure(redis: Launch) -> None:
    """At maxclients Redis answers any command with an error and hangs up, password or
    not: the probe cannot tell, and must not say secure."""
    port = redis(options=("--maxclients", "1")).port
    with take_the_only_slot(port):
        result = scan_redis(port)
    assert result.state is State.UNREACHABLE
    assert "cannot tell whether AUTH is required" in (result.observation.error or "")
    assert "max number of clients reached" in (result.observation.error or "")


@pytest.mark.parametrize("protocol", ["TLSv1.3", "TLSv1.2"])
@pytest.mark.parametrize("tls_setting", [False, True])
def test_a_port_that_requires_client_certificates_is_secure(
    redis: Launch, protocol: str, tls_setting: bool
) -> None:
    """`--tls-auth-clients yes`, no password: the client certificate is the credential.
    Without one the server ends the session (TLS 1.3: an alert after the handshake; TLS
    1.2: a handshake failure), which is a refusal, not an unreachable store."""
    port = redis(tls=True, client_certs="yes", options=("--tls-protocols", protocol)).port
    result = probe(
        {
            "name": "r",
            "kind": "redis",
            "address": f"127.0.0.1:{port}",
            "holds": ["pii"],
            "settings": {"tls": tls_setting},
        }
    )
    obs = result.observation
    assert result.state is State.SECURE, obs.error
    assert obs.auth_required is True and obs.tls_required is True
    assert "requires a client certificate" in obs.notes


def test_an_optional_client_certificate_does_not_hide_an_open_store(redis: Launch) -> None:
    """`--tls-auth-clients optional`: the server asks for a certificate and goes on
    without one; only a session ended for want of it is a refusal."""
    port = redis(tls=True, client_certs="optional").port
    result = scan_redis(port)
    assert result.state is State.EXPOSED, result.observation.error
    assert result.findings[0].check == "no-auth"
    assert "requires a client certificate" not in result.observation.notes

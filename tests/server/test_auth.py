"""Authentication and authorization: every route, every role, keys, sessions, CSRF, lockout."""

from __future__ import annotations

import inspect
import json
import re
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import safemirror.server as server_pkg
from safemirror.audit import AuditLog
from safemirror.config import ServerSettings
from safemirror.server.apikeys import KeyStore, Role
from safemirror.server.app import create_app
from tests.server.conftest import Project, make_project

# Every route the app has, and the least role it needs. A new route fails
# test_route_table_is_complete until it is added here — so it cannot be forgotten.
EXPECTED = {
    ("GET", "/api/health"): "public",
    ("POST", "/login"): "signin",
    ("GET", "/api/me"): "viewer",
    ("GET", "/api/metrics"): "viewer",
    ("GET", "/api/metrics/{name}"): "viewer",
    ("GET", "/"): "viewer",
    ("POST", "/logout"): "viewer",
    ("GET", "/static/{name}"): "viewer",
    ("GET", "/openapi.json"): "viewer",
    ("GET", "/api/tables"): "analyst",
    ("POST", "/api/sql"): "analyst",
    ("GET", "/api/keys"): "admin",
    ("POST", "/api/keys"): "admin",
    ("DELETE", "/api/keys/{key_id}"): "admin",
    ("GET", "/api/audit"): "admin",
}
PATH_VALUES = {"name": "user_growth", "key_id": "000000000000"}
BODIES = {"/api/sql": {"sql": "SELECT 1"}, "/api/keys": {"name": "x", "role": "viewer"}}


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        assert isinstance(route, APIRoute), f"{route!r} is not an APIRoute: it bypasses the guard"
        out += [(method, route.path) for method in sorted(route.methods)]
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path).replace(
        "/static/user_growth", "/static/app.js"
    )


def test_route_table_is_complete(app: FastAPI) -> None:
    assert sorted(app_routes(app)) == sorted(EXPECTED)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_route_needs_a_key_and_the_right_role(
    client: TestClient, project: Project, method: str, path: str
) -> None:
    needed = EXPECTED[(method, path)]
    url = concrete(path)
    body = BODIES.get(path)
    anonymous = client.request(method, url, json=body)
    if needed == "public":
        assert anonymous.status_code == 200
        return
    assert anonymous.status_code == 401, anonymous.text
    if needed == "signin":
        return
    for lesser in Role:
        if lesser < Role[needed]:
            refused = client.request(method, url, json=body, headers=project.headers(lesser.name))
            assert refused.status_code == 403, (lesser.name, refused.text)
    allowed = client.request(method, url, json=body, headers=project.headers(needed))
    assert allowed.status_code not in (401, 403), allowed.text


def test_bad_credentials_are_401(client: TestClient, project: Project) -> None:
    for header in (
        "Bearer",
        "Bearer smk_nope",
        "Basic dXNlcjpwYXNz",
        "Bearer " + project.keys["admin"][:-2] + "xx",
    ):
        assert client.get("/api/metrics", headers={"Authorization": header}).status_code == 401


def test_keys_are_stored_hashed_in_a_private_file(project: Project) -> None:
    path = project.config.server.keys_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    for key in project.keys.values():
        assert key not in text and key.split("_", 2)[2] not in text
    hashes = [k["hash"] for k in json.loads(text)["keys"]]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_open_keys_file_is_refused(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    store.create("a", Role.viewer)
    (tmp_path / "keys.json").chmod(0o644)
    with pytest.raises(Exception, match="readable by other users"):
        store.records()


def test_only_keys_verified_against_the_unchanged_file_skip_the_hash(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    record, key = store.create("a", Role.viewer)
    other = KeyStore(tmp_path / "keys.json")  # the file as another process changes it
    assert store.verified(key) is None  # never verified yet
    assert store.verify(key)[0] == record
    assert store.verified(key) == record
    assert store.verified(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    with store._lock:  # another thread holds the store: answer at once, without waiting
        assert store.verified(key) is None
    (tmp_path / "keys.json").chmod(0o640)
    assert store.verified(key) is None
    (tmp_path / "keys.json").chmod(0o600)
    assert store.verified(key) == record
    other.revoke("a")
    assert store.verified(key) is None and store.verify(key)[0] is None


def test_a_locked_out_client_is_refused_with_a_key_it_used_before(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    client = TestClient(
        create_app(project.config, failure_limit=2, failure_window_s=60),
        base_url="http://127.0.0.1",
    )
    good = project.headers("viewer")
    assert client.get("/api/me", headers=good).status_code == 200  # now verified and cached
    bad = {"Authorization": "Bearer smk_000000000000_" + "A" * 43}
    assert [client.get("/api/me", headers=bad).status_code for _ in range(2)] == [401, 401]
    assert client.get("/api/me", headers=good).status_code == 429


def test_revoked_and_expired_keys_stop_working(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    client = TestClient(create_app(project.config), base_url="http://127.0.0.1")
    store = KeyStore(project.config.server.keys_file)
    assert client.get("/api/me", headers=project.headers("viewer")).status_code == 200
    store.revoke("viewer-key")  # as `safemirror keys revoke` would, from another process
    assert client.get("/api/me", headers=project.headers("viewer")).status_code == 401
    record, key = store.create("short", Role.viewer)
    raw = json.loads(project.config.server.keys_file.read_text())
    for item in raw["keys"]:
        if item["id"] == record.id:
            item["expires_at"] = "2000-01-01T00:00:00+00:00"
    project.config.server.keys_file.write_text(json.dumps(raw))
    assert client.get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_failures_lock_the_client_out(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    client = TestClient(
        create_app(project.config, failure_limit=3, failure_window_s=60),
        base_url="http://127.0.0.1",
    )
    bad = {"Authorization": "Bearer smk_000000000000_" + "A" * 43}
    codes = [client.get("/api/me", headers=bad).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    locked = client.get("/api/me", headers=project.headers("admin"))
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert client.post("/login", data={"key": project.keys["admin"]}).status_code == 429
    kinds = [e.kind for e in AuditLog(project.config.audit_log).entries()]
    assert kinds.count("server.auth_failed") == 3 and "server.client_locked" in kinds


def test_a_failed_key_logs_only_a_well_formed_id(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    client = TestClient(create_app(project.config), base_url="http://127.0.0.1")
    secret = project.keys["viewer"].split("_", 2)[2]
    for sent, logged in (
        ("smk_0123456789ab_" + "A" * 43, "0123456789ab"),  # a wrong secret: the id is public
        ("smk_" + secret, None),  # the id left out: no piece of the secret
        ("smk_" + "x" * 5000 + "_y", None),  # junk
    ):
        response = client.get("/api/me", headers={"Authorization": f"Bearer {sent}"})
        assert response.status_code == 401
        entry = list(AuditLog(project.config.audit_log).entries())[-1]
        assert entry.kind == "server.auth_failed" and entry.data["key_id"] == logged
    text = project.config.audit_log.read_text()
    assert secret[:12] not in text and "x" * 100 not in text


def signed_in(client: TestClient, project: Project, role: str) -> str:
    response = client.post("/login", data={"key": project.keys[role]}, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    page = client.get("/")
    assert page.status_code == 200
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_session_cookie_and_csrf(client: TestClient, project: Project) -> None:
    first = client.get("/")
    assert first.status_code == 401 and "<form" in first.text  # the sign-in page
    csrf = signed_in(client, project, "analyst")
    assert client.get("/api/me").json()["via"] == "session"
    assert client.post("/api/sql", json={"sql": "SELECT 1"}).status_code == 403
    ok = client.post("/api/sql", json={"sql": "SELECT 1"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/api/me").status_code == 401


def test_cross_site_sign_in_is_refused(client: TestClient, project: Project) -> None:
    response = client.post(
        "/login",
        data={"key": project.keys["viewer"]},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_failed_sign_in_shows_the_form_and_is_audited(client: TestClient, project: Project) -> None:
    response = client.post("/login", data={"key": "smk_not_a_key"})
    assert response.status_code == 401 and 'id="signin-error"' in response.text
    last = list(AuditLog(project.config.audit_log).entries())[-1]
    assert last.kind == "server.auth_failed" and last.data["path"] == "/login"


def test_cookie_is_secure_under_tls(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("x")
    (tmp_path / "key.pem").write_text("x")
    project = make_project(
        tmp_path, tls_cert=str(tmp_path / "cert.pem"), tls_key=str(tmp_path / "key.pem")
    )
    app = create_app(project.config)
    client = TestClient(app, base_url="https://127.0.0.1")
    response = client.post("/login", data={"key": project.keys["viewer"]}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    # the __Host- prefix: a browser takes it only Secure, on Path=/, without a Domain, so no
    # sibling host can plant or shadow the session
    assert cookie.startswith("__Host-sm_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    page = client.get("/")
    assert page.status_code == 200 and 'name="csrf"' in page.text  # the session is read back
    assert client.get("/api/metrics").status_code == 200
    # the plain name is not honoured under TLS (a cookie set over HTTP cannot stand in)
    token = client.cookies["__Host-sm_session"]
    other = TestClient(app, base_url="https://127.0.0.1")
    other.cookies.set("__Host-sm_session", token)
    assert other.get("/api/metrics").status_code == 200
    plain = TestClient(app, base_url="https://127.0.0.1")
    plain.cookies.set("sm_session", token)
    assert plain.get("/api/metrics").status_code == 401


def test_plain_http_on_loopback_has_no_hsts_and_the_plain_cookie(
    client: TestClient, project: Project
) -> None:
    response = client.post("/login", data={"key": project.keys["viewer"]}, follow_redirects=False)
    assert response.headers["set-cookie"].startswith("sm_session=")
    assert "Secure" not in response.headers["set-cookie"]
    assert "strict-transport-security" not in response.headers


def test_nothing_turns_authentication_off() -> None:
    fields = set(ServerSettings.model_fields)
    assert fields == {
        "host",
        "port",
        "tls_cert",
        "tls_key",
        "keys_file",
        "min_cell",
        "query_timeout_s",
        "max_rows",
        "memory_limit",
    }
    for module in Path(inspect.getfile(server_pkg)).parent.glob("*.py"):
        source = module.read_text()
        assert "os.environ" not in source and "os.getenv" not in source, module.name


def test_security_headers(client: TestClient, project: Project) -> None:
    response = client.get("/api/metrics", headers=project.headers("viewer"))
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"

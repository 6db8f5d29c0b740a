# ruff: noqa: E501  (the /proc/net fixtures keep their real line width)
"""Assessment (severity follows the data held, baseline drift), reports, and discovery."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from rich.console import Console

from safemirror.guard import discover
from safemirror.guard import targets as targets_mod
from safemirror.guard.assess import CHECKS, assess, state_of
from safemirror.guard.model import Observation, Severity, State
from safemirror.guard.report import print_table, to_json, to_sarif
from safemirror.guard.scan import ScanResult, TargetResult
from safemirror.guard.spec import Target


def target(**entry: object) -> Target:
    base = {"name": "t", "kind": "redis", "address": "127.0.0.1:6379", **entry}
    return targets_mod.validate({"targets": [base]}, Path("t.yaml")).targets[0]


def exposed(check: str = "no-auth") -> Observation:
    obs = Observation(reachable=True, version="7.0.15", version_public=True, product="Redis")
    obs.expose(check, "answers INFO without AUTH")
    return obs


@pytest.mark.parametrize(
    ("holds", "expected"),
    [
        (["pii"], Severity.CRITICAL),
        (["secrets", "internal"], Severity.CRITICAL),
        (["internal"], Severity.HIGH),
        ([], Severity.HIGH),
        (["public"], Severity.LOW),
    ],
)
def test_exposure_severity_follows_the_data_held(holds: list[str], expected: Severity) -> None:
    findings = assess(target(holds=holds), exposed())
    assert findings[0].check == "no-auth" and findings[0].severity is expected
    assert state_of(findings) is State.EXPOSED


def test_default_credentials_are_as_bad_as_no_auth() -> None:
    findings = assess(target(holds=["pii"]), exposed("default-credentials"))
    assert findings[0].severity is Severity.CRITICAL and findings[0].rule == "SMG002"


def test_baseline_drift_tls_listen_version() -> None:
    t = target(holds=["pii"], expect={"tls": "required", "listen": "loopback", "version": "6."})
    obs = Observation(
        reachable=True,
        auth_required=True,
        tls_offered=False,
        tls_required=False,
        version="7.0.15",
        version_public=True,
        bind="all interfaces",
    )
    found = {f.check: f for f in assess(t, obs)}
    assert set(found) == {"tls", "listen", "version-drift", "version-disclosed"}
    assert found["tls"].severity is Severity.HIGH and "TLS not offered" in found["tls"].detail
    assert found["listen"].detail == "listens on all interfaces (expect.listen: loopback)"
    assert found["version-disclosed"].severity is Severity.INFO
    assert state_of(found.values()) is State.DRIFT


def test_secure_and_unreachable_states() -> None:
    t = target(expect={"tls": "required"})
    quiet = Observation(reachable=True, auth_required=True, tls_required=True, bind="loopback")
    assert assess(t, quiet) == [] and state_of([]) is State.SECURE
    down = assess(t, Observation(error="connection refused"))
    assert [f.check for f in down] == ["unreachable"] and state_of(down) is State.UNREACHABLE


def test_expect_auth_none_accepts_an_intentionally_open_store() -> None:
    assert [f.check for f in assess(target(expect={"auth": "none"}), exposed())] == [
        "version-disclosed"
    ]


def test_rules_are_unique() -> None:
    rules = [c.rule for c in CHECKS.values()]
    assert len(rules) == len(set(rules))


def _scan() -> ScanResult:
    t = target(holds=["pii"])
    findings = assess(t, exposed())
    return ScanResult([TargetResult(t, exposed(), findings, state_of(findings), 0.01)], 0.0, 0.01)


def test_json_report() -> None:
    data = json.loads(to_json(_scan(), Severity.HIGH))
    assert data["summary"]["at_or_above_threshold"] == 1
    assert data["summary"]["states"]["exposed"] == 1
    assert data["targets"][0]["findings"][0]["severity"] == "critical"


def test_the_table_shows_banners_as_text_not_markup() -> None:
    """A service's banner (its product and version) is printed as it is: a bracket in it
    is neither eaten as style nor an error that stops the report."""
    t = target(holds=["pii"])
    obs = Observation(reachable=True, version="7.0 [/x]", version_public=True, product="[red]")
    obs.expose("no-auth", "answers INFO without AUTH")
    findings = assess(t, obs)
    scan = ScanResult([TargetResult(t, obs, findings, state_of(findings), 0.01)], 0.0, 0.01)
    out = io.StringIO()
    print_table(scan, Severity.HIGH, Console(file=out, width=200))
    assert "[red] 7.0 [/x]" in out.getvalue()


def test_sarif_report_points_at_the_targets_file_line(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("# guard\ntargets:\n  - {name: t, kind: redis, address: h, holds: pii}\n")
    t = targets_mod.load(path).targets[0]
    findings = assess(t, exposed())
    scan = ScanResult([TargetResult(t, exposed(), findings, state_of(findings), 0.01)], 0.0, 0.01)
    sarif = json.loads(to_sarif(scan, Path("targets.yaml")))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {c.rule for c in CHECKS.values()}
    result = run["results"][0]
    assert result["ruleId"] == "SMG001" and result["level"] == "error"
    assert result["properties"]["security-severity"] == "9.5"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "targets.yaml"
    assert location["region"]["startLine"] == 3


# --- discovery ------------------------------------------------------------------------------

PROC_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 111 1 0
   1: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0
   2: 0100007F:C5E2 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0
   3: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0
   4: 0F02000A:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0
"""
PROC_TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 666 1 0
   1: 00000000000000000000000000000000:0CEA 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0
"""


def test_parse_proc_net_listeners() -> None:
    v4 = discover.parse_proc_net(PROC_TCP, v6=False)
    assert [(x.ip, x.port, x.scope) for x in v4] == [
        ("0.0.0.0", 5432, "all interfaces"),
        ("127.0.0.1", 6379, "loopback"),
        ("127.0.0.1", 8080, "loopback"),
        ("10.0.2.15", 3306, "private"),
    ]
    v6 = discover.parse_proc_net(PROC_TCP6, v6=True)
    assert [(x.ip, x.port) for x in v6] == [("::1", 6379), ("::", 3306)]


def test_discover_excludes_targets_and_flags_binding() -> None:
    found = discover.parse_proc_net(PROC_TCP, v6=False) + discover.parse_proc_net(
        PROC_TCP6, v6=True
    )
    covered = [target(address="127.0.0.1:6379")]
    result = discover.discover(covered, found=found)
    assert [(c.address, c.kind, c.scope) for c in result] == [
        ("10.0.2.15:3306", "mysql", "private"),
        ("[::]:3306", "mysql", "all interfaces"),
        ("0.0.0.0:5432", "postgres", "all interfaces"),
    ]
    assert any(
        c.port == 8080 for c in discover.discover(covered, found=found, include_unknown=True)
    )
    assert discover.bind_of(3306, found) == "all interfaces"
    assert discover.bind_of(6379, found) == "loopback"


def _listening(*addresses: str) -> list[discover.Listener]:
    return [discover.Listener(ip, 6379, 0, i) for i, ip in enumerate(addresses)]


def test_a_target_elsewhere_covers_no_local_listener() -> None:
    """A target at another machine's IP (or a name that resolves there, or nowhere) does
    not cover this host's listeners on its port, wildcard or loopback."""
    found = _listening("0.0.0.0", "127.0.0.1", "::")
    for address in ("10.9.9.9:6379", "[2001:db8::9]:6379", "db.invalid:6379"):
        result = discover.discover([target(address=address)], found=found)
        assert [c.address for c in result] == ["0.0.0.0:6379", "127.0.0.1:6379", "[::]:6379"]


def test_a_target_at_this_host_covers_its_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loopback address, an address of one of this host's interfaces, or a name that
    resolves to one covers the listener it reaches, and only that one."""
    names = {"localhost": {"127.0.0.1", "::1"}, "me.example": {"10.0.2.15"}}
    monkeypatch.setattr(discover, "host_addresses", lambda host: names.get(host, {host}))
    monkeypatch.setattr(
        discover, "is_local_address", lambda ip: ip in {"10.0.2.15", "::1"} or ip.startswith("127.")
    )
    cases = {
        "localhost": ["10.0.2.15:6379"],
        "127.0.0.1": ["10.0.2.15:6379"],
        "me.example": ["127.0.0.1:6379"],
        "10.0.2.15": ["127.0.0.1:6379"],
    }
    for host, uncovered in cases.items():
        found = _listening("127.0.0.1", "10.0.2.15")
        result = discover.discover([target(address=f"{host}:6379")], found=found)
        assert [c.address for c in result] == uncovered, host
        wildcard = discover.discover([target(address=f"{host}:6379")], found=_listening("0.0.0.0"))
        assert wildcard == [], host


def test_local_addresses_are_told_from_others() -> None:
    assert discover.is_local_address("127.0.0.1")
    assert not discover.is_local_address("10.9.9.9")
    assert not discover.is_local_address("192.0.2.1")
    assert discover.host_addresses("localhost") & {"127.0.0.1", "::1"}
    assert discover.host_addresses("[::ffff:127.0.0.1]".strip("[]")) == {"127.0.0.1"}


def test_discover_reads_this_hosts_sockets() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        mine = [x for x in discover.listeners() if x.port == port]
        assert mine and mine[0].ip == "127.0.0.1" and mine[0].scope == "loopback"


def test_discover_yaml_fragment_validates_when_pasted(tmp_path: Path, monkeypatch: Any) -> None:
    """MySQL on 10.0.2.15 and on [::], Redis on 127.0.0.1 and ::1, and a targets file that
    already has a 'redis-6379' (elsewhere): the fragment's names are unique among themselves
    and against the file."""
    from typer.testing import CliRunner

    from safemirror.guard.cli import guard_app

    found = discover.parse_proc_net(PROC_TCP, v6=False) + discover.parse_proc_net(
        PROC_TCP6, v6=True
    )
    monkeypatch.setattr(discover, "listeners", lambda: found)
    existing = [{"name": "redis-6379", "kind": "redis", "address": "10.9.9.9:6380"}]
    tfile = tmp_path / "targets.yaml"
    tfile.write_text(yaml.safe_dump({"targets": existing}))
    out = CliRunner().invoke(guard_app, ["discover", "-f", "yaml", "-t", str(tfile)])
    assert out.exit_code == 0, out.output
    entries = yaml.safe_load(out.output)["targets"]
    assert [(e["name"], e["address"]) for e in entries] == [
        ("mysql-3306", "10.0.2.15:3306"),
        ("mysql-3306-2", "[::]:3306"),
        ("postgres-5432", "0.0.0.0:5432"),
        ("redis-6379-2", "127.0.0.1:6379"),
        ("redis-6379-3", "[::1]:6379"),
    ]
    pasted = targets_mod.validate({"targets": existing + entries}, tfile)
    assert len(pasted.targets) == 6


@pytest.mark.parametrize(
    ("name", "uri"),
    [
        ("targets.yaml", "targets.yaml"),
        ("guard targets#2.yaml", "guard%20targets%232.yaml"),
        ("prod:db?.yaml", "prod%3Adb%3F.yaml"),
        ("100%.yaml", "100%25.yaml"),
        ("ünï.yaml", "%C3%BCn%C3%AF.yaml"),
    ],
)
def test_sarif_artifact_uri_is_a_uri_reference(name: str, uri: str) -> None:
    t = target(holds=["pii"])
    findings = assess(t, exposed())
    scan = ScanResult([TargetResult(t, exposed(), findings, state_of(findings), 0.01)], 0.0, 0.01)
    sarif = json.loads(to_sarif(scan, Path("conf") / name))
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == f"conf/{uri}"
    parts = urlsplit(location["artifactLocation"]["uri"])
    assert (parts.scheme, parts.query, parts.fragment) == ("", "", "")
    assert unquote(parts.path) == f"conf/{name}"

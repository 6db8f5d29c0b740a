# ruff: noqa: E501  (the /proc/net fixtures keep their real line width)
"""Assessment (severity follows the data held, baseline drift), reports, and discovery."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

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

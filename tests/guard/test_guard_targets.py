"""Targets file: validated before anything runs; errors name the file line, entry and field.
Plus the registry conventions (every kind declares a schema and a valid, documented example)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from safemirror.errors import ConfigError, ExitCode, UsageError
from safemirror.guard import targets as targets_mod
from safemirror.guard.address import parse_hostport, parse_url, scope_of
from safemirror.guard.probes import registry
from safemirror.guard.probes.base import Probe

DOCS = Path(__file__).resolve().parents[2] / "docs" / "guard.md"


def load_text(tmp_path: Path, text: str) -> targets_mod.TargetsFile:
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    return targets_mod.load(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text)
    assert info.value.exit_code == ExitCode.USAGE
    return str(info.value)


def test_valid_file_loads_every_field(tmp_path: Path) -> None:
    tfile = load_text(
        tmp_path,
        """
targets:
  - name: prod-db
    kind: postgres
    address: "127.0.0.1:5432"
    holds: [pii, secrets]
    expect: {tls: required, listen: loopback, version: "15."}
    timeout: 2
    settings: {list_databases: false}
    remediate: {command: "systemctl stop postgresql", confirm_within: 5}
  - {name: search, kind: elasticsearch, address: "https://[::1]:9200/base/", holds: pii}
alerts:
  webhook: {url: "http://127.0.0.1:9/hook"}
  command: {command: ["logger", "-t", "guard"]}
""",
    )
    first, second = tfile.targets
    assert (first.endpoint.host, first.endpoint.port, first.holds) == (
        "127.0.0.1",
        5432,
        ("pii", "secrets"),
    )
    assert first.expect.tls == "required" and first.timeout == 2
    assert first.remediate is not None and first.remediate.command == [
        "systemctl",
        "stop",
        "postgresql",
    ]
    assert first.line == 3 and second.line == 11
    assert second.address == "https://[::1]:9200/base" and second.holds == ("pii",)
    assert len(tfile.alerts.webhook) == 1 and tfile.alerts.command[0].command[0] == "logger"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "targets:\n  - {name: a, kind: postgres}\n",
            "line 2: targets[0] 'a': address: Field required",
        ),
        (
            "targets:\n  - {name: a, kind: mongo, address: 'h:1'}\n",
            "targets[0] 'a': kind: unknown kind 'mongo'",
        ),
        (
            "targets:\n  - {name: a, kind: redis, address: 'h:99999'}\n",
            "address: port must be a number",
        ),
        (
            "targets:\n  - {name: a, kind: redis, address: 'redis://h:1'}\n",
            "address: expected host:port",
        ),
        (
            "targets:\n  - name: a\n    kind: redis\n    address: h\n    expect: {tls: maybe}\n",
            "line 5: targets[0] 'a': expect.tls: Input should be 'required' or 'optional'",
        ),
        (
            "targets:\n  - name: a\n    kind: redis\n    address: h\n    settings: {tls: 3}\n",
            "targets[0] 'a': settings.tls: Input should be a valid boolean",
        ),
        (
            "targets:\n  - name: a\n    kind: redis\n    address: h\n    settings: {password: x}\n",
            "settings.password: Extra inputs are not permitted",
        ),
        ("targets:\n  - {name: a, kind: redis, address: h, colour: red}\n", "colour: Extra inputs"),
        (
            "targets:\n  - {name: a, kind: redis, address: h}\n"
            "  - {name: a, kind: nats, address: h}\n",
            "targets[1] 'a': name: duplicate name (also targets[0])",
        ),
        (
            "targets:\n  - {name: 'bad name', kind: redis, address: h}\n",
            "name: String should match",
        ),
        (
            "targets:\n  - {name: a, kind: http, address: 'http://user:pw@h/'}\n",
            "address: the address must not carry credentials",
        ),
        (
            "targets:\n  - {name: a, kind: redis, address: h, timeout: 0}\n",
            "timeout: Input should be greater than 0",
        ),
        ("targets: []\n", "targets: List should have at least 1 item"),
        ("- just\n- a list\n", "must be a mapping with a `targets:` list"),
        ("targets:\n  - just-a-string\n", "targets[0]: (entry): must be a mapping"),
        (
            "targets:\n  - {name: a, kind: redis, address: h, remediate: {command: []}}\n",
            "remediate.command: Value error, the command is empty",
        ),
        (
            "targets:\n  - {name: a, kind: redis, address: h}\nalerts: {webhook: {url: 'ftp://x'}}\n",
            "alerts.webhook[0].url: String should match",
        ),
        (  # appended to the URL it made 'http://h:80api', and the scan a traceback
            "targets:\n  - {name: a, kind: http, address: 'http://h', settings: {paths: [api]}}\n",
            "settings.paths[0]: Value error, must be a path from the root, like '/api/health'",
        ),
        (
            "targets:\n  - {name: a, kind: safemirror, address: h, settings: {health_path: x}}\n",
            "settings.health_path: Value error, must be a path from the root",
        ),
        (  # the "anonymous" request would log in, and the report print the password
            "targets:\n  - name: a\n    kind: amqp\n    address: h\n"
            "    settings: {management_url: 'http://guest:pw@h:15672'}\n",
            "line 5: targets[0] 'a': settings.management_url: Value error, the address must not "
            "carry credentials",
        ),
        (
            "targets:\n  - {name: a, kind: amqp, address: h, settings: {management_url: 'ftp://h'}}\n",
            "settings.management_url: Value error, URL scheme must be http or https",
        ),
        (  # a wildcard would receive device messages
            "targets:\n  - {name: a, kind: mqtt, address: h, settings: {topic: 'sensors/#'}}\n",
            "settings.topic: Value error, must be one topic name, without the wildcards + and #",
        ),
    ],
)
def test_malformed_files_name_entry_and_field(tmp_path: Path, body: str, expected: str) -> None:
    assert expected in error_of(tmp_path, body)


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
targets:
  - {name: a, kind: redis, address: "h:0"}
  - {name: b, kind: nope, address: h}
  - {name: c, kind: mqtt}
""",
    )
    assert (
        "targets[0] 'a'" in message and "targets[1] 'b'" in message and "targets[2] 'c'" in message
    )


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    assert "is not valid YAML" in error_of(tmp_path, "targets: [unclosed\n")
    with pytest.raises(UsageError, match="does not exist"):
        targets_mod.load(tmp_path / "nope.yaml")


def test_addresses() -> None:
    assert parse_hostport("[::1]:6379", 1).host == "::1"
    assert parse_hostport("db", 5432).port == 5432
    for typo in ("[::1", "[::1:6379", "[::1]6379"):
        with pytest.raises(ValueError, match=r"expected \[ipv6\]:port"):
            parse_hostport(typo, 6379)
    assert parse_url("127.0.0.1:9200", 9200).url == "http://127.0.0.1:9200"
    assert parse_url("https://es.local", 9200).port == 443
    with pytest.raises(ValueError):
        parse_url("ftp://x", 1)
    assert [scope_of(ip) for ip in ("127.0.0.1", "0.0.0.0", "::", "10.1.2.3", "8.8.8.8", "x")] == [
        "loopback",
        "all interfaces",
        "all interfaces",
        "private",
        "public",
        "unknown",
    ]


# --- registry conventions (Cloud Custodian / Datasette style) ----------------------------

KINDS = [
    "amqp",
    "elasticsearch",
    "http",
    "mqtt",
    "mysql",
    "nats",
    "postgres",
    "redis",
    "safemirror",
]


def test_registry_has_every_kind() -> None:
    assert registry.kinds() == KINDS


@pytest.mark.parametrize("probe", registry.all_probes(), ids=lambda p: p.kind)
def test_each_probe_declares_schema_and_a_valid_example(probe: type[Probe]) -> None:
    assert probe.title and probe.sends and probe.default_port
    assert probe.example["kind"] == probe.kind
    tfile = targets_mod.validate({"targets": [probe.example]}, Path("example.yaml"))
    assert tfile.targets[0].kind == probe.kind
    assert probe.Settings.model_json_schema()["type"] == "object"


@pytest.mark.parametrize("probe", registry.all_probes(), ids=lambda p: p.kind)
def test_each_probe_and_setting_is_documented(probe: type[Probe]) -> None:
    docs = DOCS.read_text()
    heading = f"### `{probe.kind}`"
    assert heading in docs, f"docs/guard.md lacks a '{heading}' section"
    section = docs.split(heading, 1)[1].split("\n### ", 1)[0]
    for name in probe.Settings.model_fields:
        assert f"`{name}`" in section, f"setting {probe.kind}.{name} is not documented"
    for user, _ in probe.default_credentials:
        assert f"`{user}" in section or (user == "" and "anonymous" in section)


def test_docs_list_exit_codes_and_every_check() -> None:
    from safemirror.guard.assess import CHECKS

    docs = DOCS.read_text()
    assert "| 8 |" in docs and "| 2 |" in docs
    for name, check in CHECKS.items():
        assert check.rule in docs and f"`{name}`" in docs


def test_docs_examples_are_valid_targets_files(tmp_path: Path) -> None:
    blocks = DOCS.read_text().split("```yaml\n")[1:]
    assert blocks
    for block in blocks:
        data = yaml.safe_load(block.split("```", 1)[0])
        if isinstance(data, dict) and "targets" in data:
            targets_mod.validate(data, tmp_path / "doc.yaml")


def test_email_alerts_pick_one_tls_mode(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
targets:
  - {name: a, kind: redis, address: h}
alerts:
  email: {host: smtp, sender: a@b.c, to: [d@e.f], ssl: true, starttls: true}
""",
    )
    assert "alerts.email[0]: Value error, choose ssl" in message

"""``safemirror metrics`` over attacker-chosen category values (a device's own model and
firmware, a user's country): the terminal table acts on none of them, the CSV stays
well-formed and opens in a spreadsheet without running a formula, JSON is exact."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.metrics.hostile import RTL, make_hostile
from tests.metrics.test_cli import root
from tests.metrics.world import Production, project_yaml, write_mirror

runner = CliRunner()
TERMINAL = {  # value -> how the table shows it
    "\x1b[2J\x1b[31mANSI": "\\x1b[2J\\x1b[31mANSI",
    "[red]RICH[/red]": "[red]RICH[/red]",
    "nul\x00bell\x07": "nul\\x00bell\\x07",
    RTL: "\\u202eX",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as a formula (OWASP)
ARGS = ["metrics", "user_growth", "--by", "country", "--from", "2024-01-01", "--to", "2024-12-31"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    mirror = write_mirror(Production(), base / "mirror.duckdb")
    make_hostile(mirror, list(TERMINAL))
    return project_yaml(base, mirror, "sqlite:///unused.db", min_cell=2)


def test_the_table_shows_controls_and_markup_as_text(project: Path) -> None:
    result = runner.invoke(root(), [*ARGS, "-c", str(project)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert not any(c in result.output for c in "\x1b\x00\x07\u202e"), repr(result.output)
    for shown in TERMINAL.values():
        assert shown in result.output
    as_json = runner.invoke(root(), [*ARGS, "--format", "json", "-c", str(project)])
    countries = {r["country"] for r in json.loads(as_json.output)["rows"] if not r["total"]}
    assert countries == set(TERMINAL), "JSON holds the values exactly"


SPREADSHEET = {  # value -> its CSV cell
    '=HYPERLINK("http://evil.example/","x")': '\'=HYPERLINK("http://evil.example/","x")',
    "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(1)": "'@SUM(1)",
    "\tTAB": "'\tTAB",
    "\rCR=1": "'\rCR=1",
    "  =1+1": "'  =1+1",
    "a\rb": "a\rb",
    'quote"and\nnewline,comma': 'quote"and\nnewline,comma',
    "\x1b[2Jnul\x00\x7f\x9b": "\ufffd[2Jnul\ufffd\ufffd\ufffd",
    "it's fine": "it's fine",
    "'=1": "''=1",  # a real leading quote gets the prefix too: it never reads as one
    "'quoted": "''quoted",
}


@pytest.fixture(scope="module")
def spreadsheet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("spreadsheet")
    mirror = write_mirror(Production(), base / "mirror.duckdb")
    make_hostile(mirror, list(SPREADSHEET))
    return project_yaml(base, mirror, "sqlite:///unused.db", min_cell=2)


def test_the_csv_is_well_formed_and_starts_no_formula(spreadsheet: Path) -> None:
    result = runner.invoke(root(), [*ARGS, "--format", "csv", "-c", str(spreadsheet)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output, newline="")))
    assert rows[0] == ["period", "country", "new_users", "cumulative_users"]
    assert {len(r) for r in rows} == {4}, "a value broke a line or a field"
    assert {r[1] for r in rows[1:]} == {"(total)", *SPREADSHEET.values()}
    assert len(rows) == 1 + 12 * (1 + len(SPREADSHEET))
    for row in rows[1:]:
        assert not row[1].lstrip(" ").startswith(FORMULA_START), row
        assert all(re.fullmatch(r"[0-9.]+|suppressed", v) for v in row[2:]), row

"""Category values equal to a reserved label — ``(total)``, ``(unknown)``, ``(empty)`` —
or to ``''``, or missing: each stays its own category, JSON holds it exactly, and the
CSV and the terminal table label it so it cannot be read as another one."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from safemirror.metrics.categories import key_sql, label, value_of
from tests.metrics.hostile import make_hostile
from tests.metrics.test_cli import root
from tests.metrics.world import Production, project_yaml, write_mirror

runner = CliRunner()
ARGS = ["metrics", "user_growth", "--by", "country", "--from", "2024-01-01", "--to", "2024-12-31"]
LABELS: dict[str | None, str] = {  # value -> its label in CSV and the table
    "(total)": '"(total)"',
    "(unknown)": '"(unknown)"',
    "(empty)": '"(empty)"',
    "": "(empty)",
    None: "(unknown)",
    '"(total)"': '""(total)""',
    "((x))": '"((x))"',
    "(": "(",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("reserved")
    mirror = write_mirror(Production(), base / "mirror.duckdb")
    make_hostile(mirror, list(LABELS))  # type: ignore[arg-type]  (None: a missing value)
    return project_yaml(base, mirror, "sqlite:///unused.db", min_cell=2)


def test_json_holds_each_value_exactly_in_a_row_of_its_own(project: Path) -> None:
    result = runner.invoke(root(), [*ARGS, "--format", "json", "-c", str(project)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    per_period = Counter((r["period"], r["total"], r["country"]) for r in rows)
    assert set(per_period.values()) == {1}, "two rows of one period share a category"
    assert len(rows) == 12 * (1 + len(LABELS))
    assert {r["country"] for r in rows if not r["total"]} == set(LABELS)
    checked = 0
    for period in {r["period"] for r in rows}:  # totals are the sum of their categories
        items = [r for r in rows if r["period"] == period]
        if any(r["suppressed"] for r in items):
            continue
        (total,) = [r for r in items if r["total"]]
        parts = [r for r in items if not r["total"]]
        assert total["new_users"] == sum(r["new_users"] for r in parts)
        checked += 1
    assert checked


def test_csv_and_table_label_every_category_distinctly(project: Path) -> None:
    result = runner.invoke(root(), [*ARGS, "--format", "csv", "-c", str(project)])
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(result.output, newline="")))
    assert lines[0] == ["period", "country", "new_users", "cumulative_users"]
    shown = Counter((line[0], line[1]) for line in lines[1:])
    assert set(shown.values()) == {1}, "two categories share a label"
    assert {line[1] for line in lines[1:]} == {"(total)", *LABELS.values()}
    table = runner.invoke(root(), [*ARGS, "-c", str(project)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    cells = Counter(
        part.strip() for line in table.output.splitlines() for part in line.split("│")[2:3]
    )
    for text in ("(total)", *LABELS.values()):
        assert cells[text] == 12, (text, cells)


def test_grid_keys_round_trip_and_labels_are_one_to_one() -> None:
    values = [None, "", "x", "(", ")", "()", "(x)", "((x))", "(unknown)", '"', '""', '"(x)"']
    con = duckdb.connect()
    try:
        for value in values:
            (key,) = con.execute(f"SELECT {key_sql('$v')}", {"v": value}).fetchone() or ()
            assert value_of(key) == value, (value, key)
    finally:
        con.close()
    labels = [label(v) for v in values] + [label(None, total=True)]
    assert len(set(labels)) == len(labels), labels

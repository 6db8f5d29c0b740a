"""``safemirror metrics``: list, compute in every format, suppression marked, errors."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

import safemirror
from safemirror.audit import AuditLog
from safemirror.errors import SourceError, UsageError
from safemirror.metrics import all_metrics
from safemirror.metrics.cli import register
from safemirror.metrics.registry import MetricUnavailable
from tests.metrics.world import project_yaml

runner = CliRunner()


def root() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _main() -> None:
        """test root"""

    register(app)
    return app


@pytest.fixture(scope="module")
def project_file(mirror_only: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project_yaml(tmp_path_factory.mktemp("cli"), mirror_only, "sqlite:///unused.db")


def test_lists_metrics() -> None:
    result = runner.invoke(root(), ["metrics", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert {m["name"] for m in json.loads(result.output)} == {m.name for m in all_metrics()}
    table = runner.invoke(root(), ["metrics"])
    assert table.exit_code == 0 and "user_growth" in table.output


def test_to_alone_means_the_twelve_months_before_it(project_file: Path) -> None:
    args = ["metrics", "active_devices", "--to", "2024-03-15", "--format", "json"]
    result = runner.invoke(root(), [*args, "-c", str(project_file)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["from"], body["to"]) == ("2023-04-01", "2024-03-15")


@pytest.mark.parametrize("name", [m.name for m in all_metrics()])
def test_every_metric_in_every_format(project_file: Path, name: str) -> None:
    args = ["metrics", name, "--from", "2024-01-01", "--to", "2024-06-30", "-c", str(project_file)]
    as_json = runner.invoke(root(), [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert body["metric"] == name and len(body["rows"]) == 6
    as_csv = runner.invoke(root(), [*args, "--format", "csv"])
    rows = list(csv.reader(io.StringIO(as_csv.output)))
    assert rows[0][0] == "period" and len(rows) == 7
    table = runner.invoke(root(), args)
    assert table.exit_code == 0 and "suppressed" in table.output  # the caption says so


def test_suppressed_cells_are_marked_in_csv(project_file: Path) -> None:
    result = runner.invoke(
        root(),
        [
            "metrics",
            "device_activations",
            "--by",
            "model",
            "--from",
            "2024-01-01",
            "--to",
            "2024-12-31",
            "--format",
            "csv",
            "-c",
            str(project_file),
        ],
    )
    rows = list(csv.DictReader(io.StringIO(result.output)))
    marked = [r for r in rows if r["activations"] == "suppressed"]
    assert marked and any(r["model"] == "(total)" for r in rows)
    assert all(r["activations"] for r in rows), "a withheld cell must say so, not be blank"
    last = list(AuditLog(_audit(project_file)).entries())[-1]
    assert last.kind == "metrics.read" and last.data["who"].startswith("cli:")


def _audit(project_file: Path) -> Path:
    return project_file.parent / "audit.jsonl"


def test_bad_dimension_is_a_usage_error(project_file: Path) -> None:
    result = runner.invoke(
        root(), ["metrics", "user_growth", "--by", "firmware", "-c", str(project_file)]
    )
    assert isinstance(result.exception, UsageError)
    assert "cannot be broken down" in str(result.exception)


@pytest.mark.parametrize(
    "ddl",
    ["CREATE TABLE readings (id BIGINT)", "CREATE TABLE users (id BIGINT)"],
    ids=["no-table", "no-column"],
)
@pytest.mark.parametrize("name", sorted(m.name for m in all_metrics()))
def test_a_mirror_without_the_metrics_tables_is_a_usage_error(
    tmp_path: Path, name: str, ddl: str
) -> None:
    """A mirror of another schema (or a policy that skipped a table): every metric's
    error names what is missing, and none calls the mirror corrupt."""
    mirror = tmp_path / "other.duckdb"
    con = duckdb.connect(str(mirror))
    con.execute(ddl)
    con.close()
    project = project_yaml(tmp_path, mirror, "sqlite:///unused.db")
    args = ["metrics", name, "--from", "2026-01-01", "--to", "2026-03-31", "-c", str(project)]
    result = runner.invoke(root(), args)
    assert isinstance(result.exception, MetricUnavailable), result.output
    assert f"metric {name} cannot be computed on this mirror" in str(result.exception)
    assert re.search(r"does not (exist|have)|not found", str(result.exception))
    assert "corrupt" not in (result.exception.hint or "")


@pytest.mark.parametrize("users_type", ["TIMESTAMP", "DATE"])
def test_the_latest_day_comes_from_the_tables_the_mirror_has(
    tmp_path: Path, users_type: str
) -> None:
    """A mirror with only ``users`` (its policy skips the rest): the range ends on the last
    day users were created, not on today."""
    mirror = tmp_path / "users-only.duckdb"
    con = duckdb.connect(str(mirror))
    con.execute(f"CREATE TABLE users (id BIGINT, country TEXT, created_at {users_type})")
    con.execute("INSERT INTO users SELECT i, 'DE', DATE '2025-03-01' + i::INT FROM range(20) t(i)")
    con.close()
    project = project_yaml(tmp_path, mirror, "sqlite:///unused.db")
    args = ["metrics", "user_growth", "--format", "json", "-c", str(project)]
    result = runner.invoke(root(), args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["from"], body["to"]) == ("2024-04-01", "2025-03-20")


def test_a_corrupt_mirror_is_a_source_error(tmp_path: Path) -> None:
    mirror = tmp_path / "corrupt.duckdb"
    mirror.write_bytes(b"not a duckdb file" * 100)
    project = project_yaml(tmp_path, mirror, "sqlite:///unused.db")
    result = runner.invoke(root(), ["metrics", "user_growth", "-c", str(project)])
    assert isinstance(result.exception, SourceError), result.output
    assert "move it away" in (result.exception.hint or "")


def test_a_range_to_the_end_of_the_calendar_is_a_usage_error(project_file: Path) -> None:
    args = ["metrics", "user_growth", "--from", "0001-01-01", "--to", "9999-12-31"]
    result = runner.invoke(root(), [*args, "--grain", "day", "-c", str(project_file)])
    assert isinstance(result.exception, UsageError)
    assert "must end by 9999-11-30" in str(result.exception)


@pytest.mark.parametrize("stamp", ["infinity", "9999-12-31 23:59:59"])
def test_a_mirror_stamped_at_the_end_of_time_still_has_a_default_range(
    tmp_path: Path, stamp: str
) -> None:
    """A row kept as PostgreSQL's ``infinity``, or a far-future sentinel (an account
    'created' 9999-12-31), is no reason to refuse the default range: it ends on the last
    real day, or on the last day a range may end."""
    mirror = tmp_path / "far.duckdb"
    con = duckdb.connect(str(mirror))
    con.execute("CREATE TABLE users (id BIGINT, country TEXT, created_at TIMESTAMP)")
    con.execute("INSERT INTO users VALUES (1, 'DE', '2025-03-20 10:00'), (2, 'DE', ?)", [stamp])
    con.close()
    project = project_yaml(tmp_path, mirror, "sqlite:///unused.db")
    result = runner.invoke(
        root(), ["metrics", "user_growth", "--format", "json", "-c", str(project)]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["to"] == ("2025-03-20" if stamp == "infinity" else "9999-11-30")


def test_a_user_the_system_has_no_name_for_is_audited_by_id(
    project_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run in a container as a user id that no passwd file lists, with no LOGNAME."""
    import pwd

    def unknown(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(pwd, "getpwuid", unknown)
    args = ["metrics", "user_growth", "--to", "2024-03-15", "--format", "json"]
    result = runner.invoke(root(), [*args, "-c", str(project_file)])
    assert result.exit_code == 0, result.output
    entries = AuditLog(project_file.parent / "audit.jsonl").entries()
    assert [e for e in entries if e.kind == "metrics.read"][-1].data["who"] == f"cli:{os.getuid()}"


ASCII_TERMINAL = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONIO"))}
    src = str(Path(safemirror.__file__).parents[1])
    base["PYTHONPATH"] = os.pathsep.join([src, base.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "safemirror", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        timeout=120,
    )


@pytest.mark.parametrize("env", [ASCII_TERMINAL, {"PYTHONIOENCODING": "latin-1"}])
def test_an_ascii_or_latin1_terminal_gets_output_not_a_traceback(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A terminal whose encoding lacks '—' or the table's box lines (``LC_ALL=C`` with
    UTF-8 mode off, a Latin-1 locale) still gets the table and the help; data in CSV
    and JSON is UTF-8 whatever the locale, so 'Türkiye' and 'Ελλάδα' survive."""
    mirror = tmp_path / "mirror.duckdb"
    con = duckdb.connect(str(mirror))
    con.execute("CREATE TABLE users (id BIGINT, country TEXT, created_at TIMESTAMP)")
    con.execute(
        "INSERT INTO users SELECT i, CASE WHEN i % 2 = 0 THEN 'Türkiye' ELSE 'Ελλάδα' END, "
        "TIMESTAMP '2025-03-01' FROM range(40) t(i)"
    )
    con.close()
    project = project_yaml(tmp_path, mirror, "sqlite:///unused.db")
    table = _cli(["metrics", "user_growth", "--by", "country", "-c", str(project)], tmp_path, **env)
    assert table.returncode == 0 and b"Traceback" not in table.stderr, table.stderr
    assert b"2025-03-01" in table.stdout
    for args in (["--help"], ["metrics"], ["metrics", "--help"]):
        shown = _cli(args, tmp_path, **env)
        assert shown.returncode == 0 and b"Traceback" not in shown.stderr, shown.stderr
    by = ["metrics", "user_growth", "--by", "country", "-c", str(project), "--format"]
    csv_out = _cli([*by, "csv"], tmp_path, **env)
    assert csv_out.returncode == 0, csv_out.stderr
    assert "Türkiye" in csv_out.stdout.decode("utf-8")
    assert "Ελλάδα" in csv_out.stdout.decode("utf-8")
    json_out = _cli([*by, "json"], tmp_path, **env)
    countries = {row["country"] for row in json.loads(json_out.stdout)["rows"]}
    assert {"Türkiye", "Ελλάδα"} <= countries

"""Bad input and failures: one-line errors with a fix, the right exit code, nothing half-written."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from safemirror.demo import generate as generate_mod
from safemirror.demo.generate import TABLES, generate
from safemirror.demo.mutate import mutate
from safemirror.demo.targets import parse_target, redact
from safemirror.errors import ConflictError, ExitCode, SourceError, UsageError
from tests.conftest import free_port
from tests.demo.demo_support import fingerprint, sqlite_url, table_names, value

TINY = 0.001


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/db", "prod.db", "http://example.com", "sqlite://", ""]
)
def test_unknown_or_empty_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError) as err:
        generate(url, scale=TINY)
    assert err.value.exit_code == ExitCode.USAGE
    assert "sqlite:///" in (err.value.hint or "")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("scale", [0, -1, float("nan"), float("inf"), 10.5, 1000])
def test_bad_scale_is_a_usage_error(scale: float, small_sqlite: str) -> None:
    with pytest.raises(UsageError, match="scale") as err:
        generate(small_sqlite, scale=scale)
    assert err.value.hint
    assert not Path(small_sqlite.removeprefix("sqlite:///")).exists()


def test_bad_seed_is_a_usage_error(small_sqlite: str) -> None:
    with pytest.raises(UsageError, match="seed"):
        generate(small_sqlite, scale=TINY, seed=-1)


def test_unreachable_postgres_is_a_source_error() -> None:
    url = f"postgresql://postgres:hunter2@127.0.0.1:{free_port()}/prod"
    with pytest.raises(SourceError) as err:
        generate(url, scale=TINY)
    assert err.value.exit_code == ExitCode.SOURCE
    assert "hunter2" not in str(err.value) and "***" in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_directory_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist") as err:
        generate(sqlite_url(tmp_path / "nope" / "prod.db"), scale=TINY)
    assert "mkdir" in (err.value.hint or "")
    assert list(tmp_path.iterdir()) == []


def test_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my notes")
    with pytest.raises(ConflictError, match="not a SQLite database"):
        generate(sqlite_url(path), scale=TINY, replace=True)
    assert path.read_text() == "my notes"


def test_existing_tables_are_refused_unless_replace(small_sqlite: str) -> None:
    generate(small_sqlite, scale=TINY, seed=1)
    before = fingerprint(small_sqlite)
    with pytest.raises(ConflictError, match="already holds users") as err:
        generate(small_sqlite, scale=TINY, seed=2)
    assert err.value.exit_code == ExitCode.CONFLICT and "--replace" in (err.value.hint or "")
    assert fingerprint(small_sqlite) == before
    generate(small_sqlite, scale=TINY, seed=2, replace=True)
    assert fingerprint(small_sqlite) != before


def test_other_tables_in_the_file_survive(small_sqlite: str) -> None:
    path = parse_target(small_sqlite).path
    assert path is not None
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
        conn.commit()
    generate(small_sqlite, scale=TINY)
    generate(small_sqlite, scale=TINY, seed=5, replace=True)
    assert table_names(small_sqlite) == sorted(["notes", *TABLES])
    assert value(small_sqlite, "SELECT body FROM notes") == "keep me"


def break_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make generation die after its first chunk has been written."""
    real = generate_mod.generate_chunks

    def broken(seed: int, scale: float) -> Iterator[dict[str, pa.Table]]:
        yield next(real(seed, TINY))
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(generate_mod, "generate_chunks", broken)


@pytest.fixture
def failing_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    break_generation(monkeypatch)


@pytest.mark.usefixtures("failing_generation")
def test_sqlite_failure_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="disk on fire"):
        generate(sqlite_url(tmp_path / "prod.db"), scale=TINY)
    assert list(tmp_path.iterdir()) == []


def test_sqlite_failure_keeps_the_old_database(
    small_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(small_sqlite, scale=TINY)
    before = fingerprint(small_sqlite)
    break_generation(monkeypatch)
    with pytest.raises(RuntimeError):
        generate(small_sqlite, scale=TINY, replace=True)
    assert fingerprint(small_sqlite) == before
    assert [p.name for p in Path(small_sqlite.removeprefix("sqlite:///")).parent.iterdir()] == [
        "prod.db"
    ]


@pytest.mark.postgres
def test_postgres_conflict_replace_and_rollback(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(pg_url, scale=TINY, seed=1)
    before = fingerprint(pg_url)
    with pytest.raises(ConflictError, match="already holds"):
        generate(pg_url, scale=TINY, seed=2)
    break_generation(monkeypatch)
    with pytest.raises(RuntimeError):
        generate(pg_url, scale=TINY, seed=2, replace=True)
    assert fingerprint(pg_url) == before  # the failed replace rolled back entirely
    monkeypatch.undo()
    generate(pg_url, scale=TINY, seed=2, replace=True)
    assert fingerprint(pg_url) != before


@pytest.mark.postgres
def test_postgres_failure_on_empty_database_leaves_no_table(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_generation(monkeypatch)
    with pytest.raises(RuntimeError):
        generate(pg_url, scale=TINY)
    assert table_names(pg_url) == []


def test_redact_hides_passwords() -> None:
    assert redact("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert parse_target("sqlite:////abs/x.db").path == Path("/abs/x.db")
    assert parse_target("sqlite:///rel/x.db").path == Path("rel/x.db")


@pytest.mark.parametrize(
    ("name", "url_name"), [("my prod.db", "my%20prod.db"), ("a?b#c.db", "a%3Fb%23c.db")]
)
def test_a_target_url_names_the_file_sync_reads(tmp_path: Path, name: str, url_name: str) -> None:
    """The demo decodes %-escapes as the SQLite source does, so both name one file."""
    from safemirror.sources.sqlite import SqliteSource

    url = f"sqlite:///{tmp_path}/{url_name}"
    assert parse_target(url).path == tmp_path / name
    generate(url, scale=TINY)
    assert [p.name for p in tmp_path.iterdir()] == [name]
    with SqliteSource(url) as source:
        assert set(TABLES) <= set(source.tables())
    assert mutate(url, fraction=0.01, seed=1, at=datetime(2027, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite:///x.db?immutable=1", "'immutable'"),
        ("sqlite:///x.db#part", "fragment"),
        ("postgresql://app:pa#ss@127.0.0.1:9/nowhere", "fragment"),
    ],
)
def test_a_target_url_with_a_query_or_fragment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, said: str
) -> None:
    """As the source refuses it: the file it would name is not the one sync reads."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match=said) as err:
        generate(url, scale=TINY)
    assert err.value.exit_code == ExitCode.USAGE
    assert "source" not in err.value.message  # it is a target here
    fragment = url.partition("#")[2]
    assert not fragment or fragment not in err.value.message + (err.value.hint or "")
    assert list(tmp_path.iterdir()) == []

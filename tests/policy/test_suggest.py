"""``suggest_policy`` over a small realistic production, in SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from safemirror.policy.check import check_policy
from safemirror.policy.domains import domain_name, singular
from safemirror.policy.load import policy_from_data
from safemirror.policy.model import Action, Policy
from safemirror.policy.suggest import suggest_policy
from safemirror.sources.base import Source
from safemirror.sources.registry import open_source
from tests.conftest import sqlite_db
from tests.policy.drafts import draft_of
from tests.policy.smallprod import SENSITIVE, TABLES, write_postgres, write_sqlite


@pytest.fixture(scope="module")
def small_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_sqlite(tmp_path_factory.mktemp("suggest") / "prod.db")


@pytest.fixture(scope="module")
def small_postgres(pg_module_url: str) -> str:
    return write_postgres(pg_module_url)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def drafted(request: pytest.FixtureRequest) -> Iterator[tuple[str, Policy, Source]]:
    url = request.getfixturevalue(f"small_{request.param}")
    source = open_source(url)
    text = suggest_policy(source, sample_rows=500)
    try:
        yield text, policy_from_data(yaml.safe_load(text), "suggested"), source
    finally:
        source.close()


def action(policy: Policy, table: str, column: str) -> tuple[str, dict[str, Any]]:
    spec = policy.tables[table].columns[column]
    return spec.action.value, spec.model_dump(exclude_none=True, exclude={"action", "other"})


def test_the_draft_is_a_valid_complete_policy(drafted: tuple[str, Policy, Source]) -> None:
    _, policy, source = drafted
    assert check_policy(policy, source.tables()) == []
    assert policy.tables["legacy_import"].skip  # no primary key
    for name, table in policy.mirrored_tables.items():
        assert table.primary_key == ["id"]
        for column, spec in table.columns.items():
            assert spec.type == source.tables()[name].column(column).type


def test_every_column_says_why(drafted: tuple[str, Policy, Source]) -> None:
    text = drafted[0]
    column_lines = [line for line in text.splitlines() if line.startswith("      ")]
    assert len(column_lines) == sum(len(c) for t, c in TABLES.items() if t != "legacy_import")
    assert all("  # " in line and len(line.split("  # ", 1)[1]) > 8 for line in column_lines)
    assert "% of sampled values look like email addresses" in text


def test_nothing_sensitive_is_kept(drafted: tuple[str, Policy, Source]) -> None:
    policy = drafted[1]
    for table, column in SENSITIVE:
        assert action(policy, table, column)[0] in {"drop", "secret"}, (table, column)


def test_credentials_are_secret(drafted: tuple[str, Policy, Source]) -> None:
    policy = drafted[1]
    for table, column in [
        ("users", "password_hash"),
        ("api_tokens", "access_token"),
        ("api_tokens", "session_jwt"),
    ]:
        assert action(policy, table, column)[0] == "secret"


def test_ids_are_pseudonymized_in_consistent_domains(drafted: tuple[str, Policy, Source]) -> None:
    policy = drafted[1]
    assert action(policy, "users", "id") == ("pseudonymize", {"domain": "user", "type": "bigint"})
    for table, column, domain in [
        ("devices", "user_id", "user"),
        ("api_tokens", "owner_user_id", "user"),
        ("devices", "id", "device"),
        ("connection_events", "device_id", "device"),
        ("connection_events", "id", "connection_event"),
    ]:
        assert action(policy, table, column)[1]["domain"] == domain, (table, column)
        assert action(policy, table, column)[0] == "pseudonymize"


def test_analytics_columns_are_kept_or_coarsened(drafted: tuple[str, Policy, Source]) -> None:
    policy = drafted[1]
    for table, column in [
        ("users", "country"),
        ("users", "timezone"),
        ("devices", "model"),
        ("connection_events", "outcome"),
        ("connection_events", "rssi_dbm"),
        ("api_tokens", "platform"),
        ("users", "two_factor_enabled"),
    ]:
        assert action(policy, table, column)[0] == "keep", (table, column)
    assert action(policy, "connection_events", "ts")[1]["truncate"] == "day"
    assert action(policy, "users", "birth_year")[1]["bucket"] == 10
    assert action(policy, "users", "weight_kg")[0] == "generalize"


def test_cursor_and_delete_marker(drafted: tuple[str, Policy, Source]) -> None:
    policy = drafted[1]
    assert policy.tables["users"].cursor == ["updated_at", "deleted_at"]
    assert policy.tables["users"].delete_marker == "deleted_at"
    assert policy.tables["connection_events"].cursor == ["ts"]
    assert policy.tables["api_tokens"].cursor == ["created_at"]  # expires_at is in the future
    assert policy.tables["devices"].delete_marker is None


def test_awkward_names_are_quoted(tmp_path: Path) -> None:
    _, policy, tables = draft_of(
        sqlite_db(
            tmp_path / "odd.db",
            'CREATE TABLE "on" (id INTEGER PRIMARY KEY, "yes" TEXT, "a b: c" INTEGER, '
            '"#x" BOOLEAN)',
            "INSERT INTO \"on\" VALUES (1, 'x', 2, 1)",
        )
    )
    assert set(policy.tables["on"].columns) == {"id", "yes", "a b: c", "#x"}
    assert check_policy(policy, tables) == []


def test_names_with_line_breaks_and_quotes_stay_one_name(tmp_path: Path) -> None:
    """A line break in a name is escaped, not folded into a space or a new YAML line."""
    odd, table_name = "x\n  email: {action: keep}", 't\u2028\\"'
    quoted = table_name.replace('"', '""')
    _, policy, tables = draft_of(
        sqlite_db(
            tmp_path / "odd.db",
            f'CREATE TABLE "{quoted}" (id INTEGER PRIMARY KEY, "{odd}" TEXT, email TEXT)',
            f"INSERT INTO \"{quoted}\" VALUES (1, 'a', 'bob@example.com')",
        )
    )
    table = policy.tables[table_name]
    assert set(table.columns) == {"id", odd, "email"}
    assert table.columns["email"].action is not Action.KEEP
    assert check_policy(policy, tables) == []


def test_an_empty_source(tmp_path: Path) -> None:
    sqlite_db(tmp_path / "empty.db", "PRAGMA user_version = 1")  # a database, without tables
    with open_source(f"sqlite:///{tmp_path / 'empty.db'}") as source:  # type: ignore[attr-defined]
        assert yaml.safe_load(suggest_policy(source))["tables"] == {}


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("users", "user"),
        ("devices", "device"),
        ("categories", "category"),
        ("addresses", "address"),
        ("statuses", "status"),
        ("body_metrics", "body_metric"),
        ("staff", "staff"),
        ("glass", "glass"),
        ("status", "status"),
        ("analysis", "analysis"),
        ("campus", "campus"),
        ("buses", "bus"),
        ("s", "s"),
    ],
)
def test_singular(table: str, expected: str) -> None:
    assert singular(table) == expected


def test_domain_names_are_valid() -> None:
    assert domain_name("User Accounts") == "user_accounts"
    assert domain_name("2fa") == "d_2fa"
    assert domain_name("***") == "value"
    assert Action.PSEUDONYMIZE.value == "pseudonymize"


def test_names_the_mirror_cannot_take_are_dropped_or_skipped(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            'CREATE TABLE things (id bigint PRIMARY KEY, "Active" boolean, active boolean, '
            "_sm_deleted boolean)"
        )
        con.execute('CREATE TABLE "Gadgets" (id bigint PRIMARY KEY, label text)')
        con.execute("CREATE TABLE gadgets (id bigint PRIMARY KEY, label text)")
        con.execute("CREATE TABLE _sm_runs (id bigint PRIMARY KEY, label text)")
        con.execute("CREATE TABLE odd (_sm_id bigint PRIMARY KEY, label text)")
        con.execute("INSERT INTO things VALUES (1, true, false, false)")
    with open_source(pg_url) as source:  # type: ignore[attr-defined]
        text = suggest_policy(source)
        policy = policy_from_data(yaml.safe_load(text), "suggested")  # a valid policy
        assert check_policy(policy, source.tables()) == []
    assert policy.mirrored_tables.keys() == {"Gadgets", "things"}
    assert policy.tables["gadgets"].skip and policy.tables["_sm_runs"].skip
    assert policy.tables["odd"].skip
    things = policy.tables["things"].columns
    assert things["Active"].action is Action.KEEP  # what an unreserved boolean gets
    assert things["active"].action is Action.DROP and things["_sm_deleted"].action is Action.DROP
    assert "the mirror ignores case and already has 'Gadgets'" in text
    assert "the mirror ignores case and already has 'Active'" in text
    assert "a key column: a name safemirror keeps for itself" in text


def test_a_column_generated_from_what_the_mirror_hides_is_dropped(pg_url: str) -> None:
    """``lower(email)`` or ``id * 2`` would give the hidden column away; a column generated
    from kept ones is classified as any other."""
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE members (id bigint PRIMARY KEY, email text, score integer, "
            "email_lower text GENERATED ALWAYS AS (lower(email)) STORED, "
            "member_no bigint GENERATED ALWAYS AS (id * 2 + score) STORED, "
            "score_twice integer GENERATED ALWAYS AS (score * 2) STORED, "
            "created_at timestamptz DEFAULT now())"
        )
        con.execute(
            "INSERT INTO members (id, email, score) "
            "SELECT g, 'm' || g || '@example.com', g % 7 FROM generate_series(1, 50) g"
        )
        con.execute("CREATE TABLE plain (id bigint PRIMARY KEY, n integer)")  # defaults only
    with open_source(pg_url) as source:  # type: ignore[attr-defined]
        assert source.generated_columns() == {
            "members": {
                "email_lower": ("email",),
                "member_no": ("id", "score"),
                "score_twice": ("score",),
            }
        }
    text, policy, _ = draft_of(pg_url)
    members = policy.tables["members"].columns
    assert members["score"].action is Action.KEEP
    assert members["score_twice"].action is Action.KEEP
    assert members["email_lower"].action is Action.DROP
    assert members["member_no"].action is Action.DROP
    assert members["created_at"].action is not Action.DROP  # a default reads no column
    assert "generated from id, which the mirror does not keep as it is" in text


def test_infinite_timestamps_are_sampled(pg_url: str) -> None:
    """PostgreSQL's ``infinity`` is no Python datetime: a column holding it lies ahead (no
    cursor), and ``-infinity`` is no reason to leave one out."""
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE tokens (id bigint PRIMARY KEY, expires_at timestamp, seen_at timestamptz)"
        )
        con.execute("INSERT INTO tokens VALUES (1, 'infinity', '-infinity'), (2, now(), now())")
    _, policy, _ = draft_of(pg_url)
    assert policy.tables["tokens"].cursor == ["seen_at"]


def test_rows_without_updated_at_make_created_at_a_cursor_too(tmp_path: Path) -> None:
    _, policy, _ = draft_of(
        sqlite_db(
            tmp_path / "stamps.db",
            *(
                f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, created_at TIMESTAMP, "
                "updated_at TIMESTAMP)"
                for table in ("stamped", "unstamped")
            ),
            "INSERT INTO stamped VALUES (1, '2025-01-01 00:00:00', '2025-01-02 00:00:00')",
            "INSERT INTO unstamped VALUES (1, '2025-01-01 00:00:00', NULL)",  # not updated yet
            "INSERT INTO unstamped VALUES (2, '2025-01-01 00:00:00', '2025-01-03 00:00:00')",
        )
    )
    assert policy.tables["stamped"].cursor == ["updated_at"]
    assert policy.tables["unstamped"].cursor == ["created_at", "updated_at"]


def test_a_table_the_role_may_not_read_is_drafted_as_skip(
    pg_url: str, pg_reader_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rest of the draft is still made; the skipped table says why, on stderr too."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE open_t (id bigint PRIMARY KEY, n integer)")
        conn.execute("CREATE TABLE closed_t (id bigint PRIMARY KEY, secret_note text)")
        role = psycopg.conninfo.conninfo_to_dict(pg_reader_url)["user"]
        conn.execute(f'REVOKE SELECT ON closed_t FROM "{role}"')
    from safemirror.cli import run

    assert run(["policy", "suggest", "--source", pg_reader_url]) == 0
    out, err = capsys.readouterr()
    draft = policy_from_data(yaml.safe_load(out), "draft")
    assert draft.tables["closed_t"].skip and not draft.tables["open_t"].skip
    assert "closed_t: skip  # the source role may not read it: GRANT it SELECT" in out
    assert "table 'closed_t' left out of the draft (skip): " in " ".join(err.split())
    assert "may not read column(s) id, secret_note" in " ".join(err.split())


def test_a_table_the_role_may_read_only_in_part_is_drafted_as_skip(
    pg_url: str, pg_reader_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Column privileges: the withheld columns cannot be sampled, and verify would have to
    read every sensitive one, so the draft asks for the whole table."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE people (id bigint PRIMARY KEY, email text, plan text)")
        conn.execute("INSERT INTO people VALUES (1, 'ann@example.org', 'pro')")
        role = psycopg.conninfo.conninfo_to_dict(pg_reader_url)["user"]
        conn.execute(f'REVOKE SELECT ON people FROM "{role}"')
        conn.execute(f'GRANT SELECT (id, plan) ON people TO "{role}"')
    from safemirror.cli import run

    assert run(["policy", "suggest", "--source", pg_reader_url]) == 0
    out, err = capsys.readouterr()
    assert policy_from_data(yaml.safe_load(out), "draft").tables["people"].skip
    assert "people: skip  # the source role may not read 1 of its 3 columns" in out
    assert "may not read column(s) email" in " ".join(err.split())


def test_a_table_whose_rows_do_not_read_is_skipped_without_quoting_them(
    tmp_path: Path,
) -> None:
    """The error may quote a value; it goes to the terminal, never into the draft."""
    warned: list[str] = []
    draft, policy, _ = draft_of(
        sqlite_db(
            tmp_path / "bad.db",
            "CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME)",
            "INSERT INTO events VALUES (1, 1700000000123)",  # milliseconds: no time
            "CREATE TABLE fine (id INTEGER PRIMARY KEY, n INTEGER)",
        ),
        warn=warned.append,
    )
    assert policy.tables["events"].skip and not policy.tables["fine"].skip
    assert "1700000000123" not in draft
    assert len(warned) == 1 and "column 'at'" in warned[0]


def test_a_bounded_numeric_holding_nan_is_skipped_naming_its_column(pg_url: str) -> None:
    """NaN fits PostgreSQL's numeric(p, s) but no DECIMAL: the draft skips the table and
    says which column, as the sync would stop on it (it was an internal error)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE prices (id int PRIMARY KEY, amount numeric(8, 2))")
        conn.execute("INSERT INTO prices VALUES (1, 2.5), (2, 'NaN')")
        conn.execute("CREATE TABLE fine (id int PRIMARY KEY, n int)")
    warned: list[str] = []
    _, policy, _ = draft_of(pg_url, warn=warned.append)
    assert policy.tables["prices"].skip and not policy.tables["fine"].skip
    assert len(warned) == 1 and "column 'amount'" in warned[0]


@pytest.mark.parametrize(
    ("ddl", "cursor", "marker", "column", "action"),
    [
        (  # a boolean soft-delete flag is the delete marker
            "CREATE TABLE t (id INTEGER PRIMARY KEY, is_deleted BOOLEAN, updated_at TIMESTAMP)",
            ["updated_at"],
            "is_deleted",
            "is_deleted",
            Action.KEEP,
        ),
        (  # the names an ORM spells in camel case, or a schema in words, are the same
            'CREATE TABLE t (id INTEGER PRIMARY KEY, "isDeleted" BOOLEAN, "Updated At" TIMESTAMP)',
            ["Updated At"],
            "isDeleted",
            "isDeleted",
            Action.KEEP,
        ),
        (
            'CREATE TABLE t (id INTEGER PRIMARY KEY, "createdAt" TIMESTAMP, '
            '"updatedAt" TIMESTAMP, "deletedAt" TIMESTAMP)',
            ["updatedAt", "deletedAt"],
            "deletedAt",
            "createdAt",
            Action.GENERALIZE,
        ),
        (  # the sync must read a cursor, and never reads a secret: the draft drops it
            "CREATE TABLE t (id INTEGER PRIMARY KEY, password_changed_at TIMESTAMP)",
            ["password_changed_at"],
            None,
            "password_changed_at",
            Action.DROP,
        ),
    ],
)
def test_the_cursor_and_delete_marker_drafted(
    tmp_path: Path, ddl: str, cursor: list[str], marker: str | None, column: str, action: Action
) -> None:
    _, policy, _ = draft_of(sqlite_db(tmp_path / "t.db", ddl))
    drafted = policy.tables["t"]
    assert (drafted.cursor, drafted.delete_marker) == (cursor, marker)
    assert drafted.columns[column].action is action


def test_a_cursor_of_event_times_is_flagged(tmp_path: Path) -> None:
    """A change stamp by another common name is the cursor; a table with only the times
    things happened gets them as its cursor, with a warning that late rows are missed."""
    text, policy, _ = draft_of(
        sqlite_db(
            tmp_path / "stamps.db",
            "CREATE TABLE weighins (id INTEGER PRIMARY KEY, measured_at TIMESTAMP, kg REAL)",
            "CREATE TABLE profiles (id INTEGER PRIMARY KEY, born_on DATE, "
            "created_at TIMESTAMP, modified_at TIMESTAMP)",
            'CREATE TABLE notes (id INTEGER PRIMARY KEY, "createdAt" TIMESTAMP, '
            '"lastModified" TIMESTAMP)',
        )
    )
    assert policy.tables["weighins"].cursor == ["measured_at"]
    assert policy.tables["profiles"].cursor == ["modified_at"]
    assert policy.tables["notes"].cursor == ["lastModified"]
    weighins = text.index("  weighins:")
    warning = text.index("# cursor: when rows happened, not when they were written.")
    assert weighins < warning < text.index("cursor: [measured_at]")
    assert text.count("# cursor: when rows happened") == 1  # the others have change stamps


def test_times_stored_as_text_are_dropped_and_still_found_as_the_change_stamp(
    tmp_path: Path,
) -> None:
    """SQLite's CURRENT_TIMESTAMP in TEXT columns: not a category to keep as it is (they
    cannot be coarsened), and ``updated_at`` is still the cursor, with a warning."""
    draft, policy, tables = draft_of(
        sqlite_db(
            tmp_path / "t.db",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, kind TEXT, "
            "created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT, deleted_at TEXT)",
            *(
                f"INSERT INTO notes (id, kind, updated_at) VALUES "
                f"({i}, 'memo', '2026-03-0{1 + i % 5}T10:00:0{i % 10}Z')"
                for i in range(1, 40)
            ),
        )
    )
    notes = policy.tables["notes"]
    assert notes.cursor == ["updated_at", "deleted_at"] and notes.delete_marker == "deleted_at"
    assert {name: spec.action.value for name, spec in notes.columns.items()} == {
        "id": "pseudonymize",
        "kind": "keep",
        "created_at": "drop",
        "updated_at": "drop",
        "deleted_at": "drop",
    }
    assert "stored as text, which generalize cannot coarsen" in draft
    assert "# cursor: times stored as text, compared as text" in draft
    assert check_policy(policy, tables) == []


def test_text_that_only_starts_like_a_date_is_not_taken_for_times(tmp_path: Path) -> None:
    _, policy, _ = draft_of(
        sqlite_db(
            tmp_path / "t.db",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, updated_at TEXT)",
            *(
                f"INSERT INTO notes VALUES ({i}, '2026-03-01 done by {'ABCDE'[i % 5]}')"
                for i in range(1, 40)
            ),
        )
    )
    assert policy.tables["notes"].cursor == []


def test_virtual_tables_left_out_are_named_in_the_draft(tmp_path: Path) -> None:
    draft, policy, _ = draft_of(
        sqlite_db(
            tmp_path / "fts.db",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, layout TEXT)",
            "CREATE VIRTUAL TABLE notes_fts USING fts5(body)",
        )
    )
    assert list(policy.tables) == ["notes"]
    comment = " ".join(line[2:] for line in draft.splitlines() if line.startswith("# "))
    assert "Left out, never read: virtual tables" in comment and "notes_fts_data" in comment


def test_long_repeated_text_is_called_long_not_varied(tmp_path: Path) -> None:
    long_text = "x" * 100
    draft, policy, _ = draft_of(
        sqlite_db(
            tmp_path / "t.db",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, layout TEXT)",
            *(f"INSERT INTO notes VALUES ({i}, '{long_text}')" for i in range(1, 60)),
        )
    )
    assert policy.tables["notes"].columns["layout"].action is Action.DROP
    assert "text of up to 100 characters: too long for a category" in draft
    assert "varied text" not in draft

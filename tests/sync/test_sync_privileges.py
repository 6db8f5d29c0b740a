"""A source role with column privileges: every column a sync or verify reads must be
readable, and the run stops before it writes when one is not; the rest may stay withheld."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from safemirror.audit import AuditLog
from safemirror.cli import run
from safemirror.config import ProjectConfig
from safemirror.errors import ExitCode, PolicyError
from safemirror.policy.check import check_policy
from safemirror.sources.registry import open_source
from safemirror.sync.run import run_sync
from tests.sync.tiny import TINY_POLICY, TINY_SCHEMA, file_digest, stamp

pytestmark = pytest.mark.postgres

MakeProject = Callable[..., ProjectConfig]
UNREADABLE = "not readable by the source's role"


@pytest.fixture
def admin(pg_url: str) -> Iterator[psycopg.Connection]:
    """The tiny production, written by the database's owner."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(TINY_SCHEMA)
        for i in range(1, 6):
            conn.execute(
                "INSERT INTO users VALUES (%s, %s, 'US', %s, %s, NULL)",
                (i, f"person{i}@example.org", stamp(1), stamp(2)),
            )
            conn.execute(
                "INSERT INTO devices VALUES (%s, %s, %s, 'Cam Pro 2', %s, NULL)",
                (100 + i, i, f"Nursery of person {i}", stamp(2)),
            )
        yield conn


def withhold(conn: psycopg.Connection, reader_url: str, table: str, *columns: str) -> None:
    """Leave the reader SELECT on every column of ``table`` but ``columns``."""
    role = psycopg.conninfo.conninfo_to_dict(reader_url)["user"]
    names = [
        name
        for (name,) in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            (table,),
        )
        if name not in columns
    ]
    conn.execute(f'REVOKE SELECT ON {table} FROM "{role}"')
    conn.execute(f'GRANT SELECT ({", ".join(names)}) ON {table} TO "{role}"')


@pytest.fixture
def least_privilege(
    admin: psycopg.Connection, pg_reader_url: str, make_project: MakeProject
) -> ProjectConfig:
    """The tiny project with ``users.created_at`` dropped, and withheld from the reader."""
    policy: dict[str, Any] = {"version": 1, "tables": dict(TINY_POLICY["tables"])}
    users = dict(policy["tables"]["users"])
    users["columns"] = {**users["columns"], "created_at": {"action": "drop", "type": "timestamp"}}
    policy["tables"]["users"] = users
    withhold(admin, pg_reader_url, "users", "created_at")
    return make_project(pg_reader_url, policy)


def problems_of(project: ProjectConfig) -> list[tuple[str, str | None, str]]:
    source = open_source(project.source)
    try:
        found = check_policy(project.policy, source.tables())
    finally:
        source.close()
    return [(p.table, p.column, p.fix) for p in found if p.kind == UNREADABLE]


def test_a_withheld_column_verify_compares_stops_the_sync_before_it_writes(
    admin: psycopg.Connection,
    pg_reader_url: str,
    make_project: MakeProject,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``users.email`` is a secret: no sync reads it, but verify matches the mirror with
    its values, so the role must read it."""
    project = make_project(pg_reader_url)
    withhold(admin, pg_reader_url, "users", "email")
    ((table, column, fix),) = problems_of(project)
    assert (table, column) == ("users", "email") and "verify reads its values" in fix
    with pytest.raises(PolicyError, match=r"users\.email: not readable by the source's role"):
        run_sync(project)
    assert not project.mirror.exists()
    config = str(project.base_dir / "safemirror.yaml")
    assert run(["policy", "check", "--config", config]) == ExitCode.POLICY
    assert "users.email: not readable" in " ".join(capsys.readouterr().err.split())

    role = psycopg.conninfo.conninfo_to_dict(pg_reader_url)["user"]
    admin.execute(f'GRANT SELECT (email) ON users TO "{role}"')
    assert run_sync(project).tables["users"].rows_read == 5


def test_columns_no_step_reads_may_stay_withheld(least_privilege: ProjectConfig) -> None:
    """A dropped timestamp is neither copied nor compared: least privilege is kept."""
    project = least_privilege
    assert problems_of(project) == []
    result = run_sync(project)
    assert result.tables["users"].rows_read == 5
    assert not [note for note in result.notes if "row-level security" in note]


def test_row_versions_are_read_where_the_role_may_read_them(
    admin: psycopg.Connection, pg_reader_url: str, least_privilege: ProjectConfig
) -> None:
    """A table read by column privileges gives no ``xmin`` unless that is granted too: its
    rows at the watermark are read again by each run, and the other tables still skip
    theirs. Every row of each table shares one stamp, so each run meets those ties."""
    project = least_privilege
    for _ in range(2):
        run_sync(project)  # the full run, then the run that records the ties' versions
    reads = {name: o.rows_read for name, o in run_sync(project).tables.items()}
    assert reads == {"users": 5, "devices": 0}
    role = psycopg.conninfo.conninfo_to_dict(pg_reader_url)["user"]
    admin.execute(f'GRANT SELECT (xmin) ON users TO "{role}"')
    run_sync(project)
    assert {name: o.rows_read for name, o in run_sync(project).tables.items()} == {
        "users": 0,
        "devices": 0,
    }


def test_a_withheld_column_the_sync_copies_is_named(
    admin: psycopg.Connection, pg_reader_url: str, make_project: MakeProject
) -> None:
    project = make_project(pg_reader_url)
    run_sync(project)
    before = file_digest(project.mirror)
    withhold(admin, pg_reader_url, "devices", "model", "user_id")
    found = problems_of(project)
    assert [(t, c) for t, c, _ in found] == [("devices", "user_id"), ("devices", "model")]
    assert all(fix.endswith("the sync reads it") for _, _, fix in found)
    with pytest.raises(PolicyError, match="nothing was written"):
        run_sync(project)
    assert file_digest(project.mirror) == before


def test_a_withheld_table_is_one_problem_with_the_choice_to_skip_it(
    admin: psycopg.Connection, pg_reader_url: str, make_project: MakeProject
) -> None:
    project = make_project(pg_reader_url)
    role = psycopg.conninfo.conninfo_to_dict(pg_reader_url)["user"]
    admin.execute(f'REVOKE SELECT ON devices FROM "{role}"')
    ((table, column, fix),) = problems_of(project)
    assert (table, column) == ("devices", None)
    assert "SELECT on table 'devices'" in fix and "'devices: skip'" in fix


def test_verify_refuses_a_mirror_it_cannot_compare(
    admin: psycopg.Connection,
    pg_reader_url: str,
    make_project: MakeProject,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Withheld after the sync: verify says which column it cannot read, exit 5, and does
    not call the mirror clean."""
    project = make_project(pg_reader_url)
    run_sync(project)
    withhold(admin, pg_reader_url, "devices", "nickname")
    config = str(project.base_dir / "safemirror.yaml")
    assert run(["verify", "--config", config]) == ExitCode.SOURCE
    out, err = capsys.readouterr()
    err = " ".join(err.split())
    assert "every value of devices.nickname" in err and "may not read them" in err
    assert "clean" not in out


def test_rows_row_level_security_hides_are_named_in_a_note(
    admin: psycopg.Connection, pg_reader_url: str, make_project: MakeProject
) -> None:
    """The mirror can only hold what the role sees; the run says which tables it filters."""
    role = psycopg.conninfo.conninfo_to_dict(pg_reader_url)["user"]
    admin.execute("ALTER TABLE devices ENABLE ROW LEVEL SECURITY")
    admin.execute(f'CREATE POLICY own ON devices FOR SELECT TO "{role}" USING (user_id <= 3)')
    project = make_project(pg_reader_url)
    result = run_sync(project)
    assert result.tables["devices"].rows_read == 3 and result.tables["users"].rows_read == 5
    (note,) = [n for n in result.notes if "row-level security" in n]
    assert "on devices:" in note and "BYPASSRLS" in note
    *_, last = AuditLog(project.audit_log).entries()
    assert note in last.data["notes"]

"""Read-only SQL: hostile queries are refused clearly and change nothing; limits hold."""

from __future__ import annotations

import hashlib
from collections.abc import Coroutine
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from safemirror.audit import AuditLog
from safemirror.server.app import create_app
from safemirror.server.sandbox import MAX_RESULT_BYTES
from tests.server.conftest import Project, make_project

HOSTILE = [
    # file reads
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_parquet('/etc/passwd')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT content FROM read_blob('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM parquet_metadata('/etc/passwd')",
    "SELECT * FROM users, read_csv('/etc/passwd') AS x",
    "SELECT (SELECT count(*) FROM read_text('/etc/shadow')) AS n",
    # network reads
    "SELECT * FROM 'https://example.com/data.csv'",
    "SELECT * FROM read_csv('https://example.com/data.csv')",
    "SELECT * FROM read_parquet('s3://bucket/key.parquet')",
    # writes and side doors
    "COPY users TO '/tmp/sm_stolen.csv'",
    "COPY (SELECT * FROM users) TO '/tmp/sm_stolen.csv' (FORMAT csv)",
    "EXPORT DATABASE '/tmp/sm_export'",
    "ATTACH '/tmp/sm_other.db' AS other",
    "ATTACH ':memory:' AS scratch",
    "DETACH mirror",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET memory_limit = '64GB'",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "PRAGMA version",
    "PRAGMA database_list",
    "CALL pragma_version()",
    "CHECKPOINT",
    "VACUUM",
    "BEGIN TRANSACTION",
    "CREATE TABLE stolen AS SELECT * FROM users",
    "CREATE TEMP TABLE t AS SELECT 1",
    "CREATE MACRO m(x) AS x",
    "DROP TABLE users",
    "UPDATE users SET country = 'XX'",
    "DELETE FROM users",
    "INSERT INTO users (id) VALUES (1)",
    "SELECT * INTO stolen FROM users",
    # several statements
    "SELECT 1; SELECT 2",
    "SELECT 1; DROP TABLE users",
    "SELECT 1; COPY users TO '/tmp/sm_stolen.csv'",
    # writes hidden in CTEs
    "WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone",
    "WITH added AS (INSERT INTO users (id) VALUES (1) RETURNING *) SELECT * FROM added",
    "WITH x AS (UPDATE users SET country = 'XX' RETURNING *) SELECT count(*) FROM x",
    # settings, environment and catalog tricks
    "SELECT getenv('HOME')",
    "SELECT current_setting('enable_external_access')",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_tables",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM pg_catalog.pg_class",
    "SELECT * FROM pragma_database_size()",
    "SELECT version()",
    "SELECT current_database()",
    "SELECT * FROM which_secret('s3://x', 's3')",
    "SELECT json_execute_serialized_sql('{}')",
    # SQL in a string, bound by DuckDB: hidden tables' columns and (optimized) statistics
    "SELECT json_serialize_plan('SELECT * FROM _sm_state')",
    "SELECT json_serialize_plan('SELECT * FROM body_metrics WHERE weight_kg > 500', "
    "optimize := true)",
    "SELECT JSON_SERIALIZE_PLAN('SELECT 1 FROM body_metrics')",
    "SELECT index_key({'table': '_sm_state'}, 'x', 1)",
    # queries inside functions
    "SELECT * FROM query('SELECT * FROM _sm_runs')",
    "SELECT * FROM query_table('_sm_runs')",
    "SELECT * FROM query_table(['body_metrics'])",
    # system and aggregate-only tables
    "SELECT * FROM _sm_runs",
    'SELECT * FROM "_SM_RUNS"',
    "SELECT * FROM main._sm_state",
    "SELECT * FROM mirror.main.users",
    "SELECT * FROM _sm_history",
    "SELECT * FROM body_metrics",
    "SELECT avg(weight_kg) FROM Body_Metrics",
    "SELECT * FROM users WHERE id IN (SELECT user_id FROM body_metrics)",
    "SELECT * FROM (WITH body_metrics AS (SELECT 1) SELECT 1) t, body_metrics",
    "SELECT * FROM (WITH _sm_runs AS (SELECT 1) SELECT 1) t, _sm_runs",
    "SELECT * FROM sqlite_scan('/tmp/x.db', 't')",
    "SELECT * FROM postgres_scan('host=x', 'public', 't')",
    # inside constructs the sandbox regenerates as they were written
    "VALUES ((SELECT count(*) FROM body_metrics))",
    "VALUES ((SELECT content FROM read_text('/etc/passwd')))",
    "VALUES (1) ORDER BY (SELECT count(*) FROM _sm_runs)",
    "SELECT ROW(1) < ROW((SELECT count(*) FROM body_metrics))",
    "SELECT apply(['/etc/passwd'], lambda f: getenv(f))",
    "SELECT reduce([1], lambda a, b: a, (SELECT count(*) FROM body_metrics))",
    "SELECT list(x)[1] FROM read_csv('/etc/passwd') x",
    "SELECT INTERVAL (getenv('HOME'))",
    "SELECT x'41' || getenv('HOME')",
    "SELECT '{}'::JSON -> (SELECT run_id FROM _sm_runs)",
    "SELECT '/etc/passwd'.read_text()",
    "SELECT date_trunc(current_setting('TimeZone'), now())",
    # not SQL
    "DESCRIBE users",
    "SUMMARIZE users",
    "SHOW TABLES",
    "this is not sql",
    "",
    "{:",  # the parser itself fails on it (AttributeError inside sqlglot)
]


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sql_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Queries get the default time limit, which a busy machine's slowest still meets; the
    time-limit test makes a server of its own with a short one."""
    return make_project(tmp_path_factory.mktemp("sql"), max_rows=50)


@pytest.fixture(scope="module")
def sql_client(sql_project: Project) -> TestClient:
    return TestClient(create_app(sql_project.config), base_url="http://127.0.0.1")


def run(client: TestClient, project: Project, sql: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/sql", json={"sql": sql}, headers=project.headers("analyst"))
    return response.status_code, response.json()


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sql_is_refused_and_changes_nothing(
    sql_client: TestClient, sql_project: Project, sql: str
) -> None:
    mirror = sql_project.config.mirror
    before = fingerprint(mirror)
    files_before = set(Path("/tmp").glob("sm_*"))
    status, body = run(sql_client, sql_project, sql)
    assert status in (400, 422), (sql, status, body)
    detail = body["detail"]
    if status == 400:
        assert isinstance(detail, str) and len(detail) > 10, detail
    assert fingerprint(mirror) == before
    assert set(Path("/tmp").glob("sm_*")) == files_before
    # Still working, configuration untouched.
    status, ok = run(sql_client, sql_project, "SELECT count(*) AS n FROM users")
    assert status == 200 and ok["rows"][0][0] > 0
    if status == 400:
        last = list(AuditLog(sql_project.config.audit_log).entries())[-2]
        assert last.kind == "server.sql" and last.data["sql"] == sql
        assert last.data["refused"] is True or "failed" in last.data["error"]


def test_messages_say_what_is_wrong(sql_client: TestClient, sql_project: Project) -> None:
    cases = {
        "SELECT * FROM body_metrics": "aggregate-only",
        "SELECT * FROM _sm_runs": "system table",
        "SELECT 1; SELECT 2": "exactly one SELECT",
        "SELECT * FROM read_csv('/etc/passwd')": "read_csv",
        "WITH x AS (DELETE FROM users RETURNING *) SELECT * FROM x": "read-only",
        "SELECT getenv('HOME')": "getenv",
        "SET memory_limit = '64GB'": "only SELECT",
    }
    for sql, phrase in cases.items():
        status, body = run(sql_client, sql_project, sql)
        assert status == 400 and phrase in str(body["detail"]), (sql, body)


def test_allowed_queries_work(sql_client: TestClient, sql_project: Project) -> None:
    status, body = run(
        sql_client,
        sql_project,
        """
        WITH per AS (SELECT d.category, count(*) AS n FROM devices d
                     JOIN users u ON u.id = d.user_id GROUP BY ALL)
        SELECT category, n FROM per ORDER BY n DESC""",
    )
    assert status == 200 and body["columns"] == ["category", "n"] and body["rows"]
    status, body = run(
        sql_client,
        sql_project,
        "SELECT date_trunc('month', ts) AS m, outcome, count(*) FROM "
        "connection_events GROUP BY ALL ORDER BY 1 LIMIT 3",
    )
    assert status == 200 and body["rows"][0][0].startswith("20")


def test_row_limit_and_timeout(sql_client: TestClient, sql_project: Project) -> None:
    status, body = run(sql_client, sql_project, "SELECT * FROM connection_events")
    assert status == 200 and body["row_count"] == 50 and body["truncated"] is True
    config = sql_project.config
    server = config.server.model_copy(update={"query_timeout_s": 1.0})
    app = create_app(config.model_copy(update={"server": server}))
    try:
        client = TestClient(app, base_url="http://127.0.0.1")
        endless = "SELECT count(*) FROM range(100000000) a, range(100000) b"
        status, body = run(client, sql_project, endless)
        assert status == 400 and "longer than 1 s" in str(body["detail"])
        status, body = run(client, sql_project, "SELECT 42 AS answer")
        assert status == 200 and body["rows"] == [[42]]
    finally:
        app.state.sm.sql.close()


def test_every_query_is_audited(sql_client: TestClient, sql_project: Project) -> None:
    run(sql_client, sql_project, "SELECT 7 AS seven")
    entry = list(AuditLog(sql_project.config.audit_log).entries())[-1]
    assert entry.kind == "server.sql"
    assert entry.data["who"].startswith("analyst-key") and entry.data["sql"] == "SELECT 7 AS seven"
    assert entry.data["rows"] == 1 and entry.data["refused"] is False
    assert entry.data["duration_ms"] >= 0


def test_tables_lists_only_sql_tables(sql_client: TestClient, sql_project: Project) -> None:
    names = [
        t["name"]
        for t in sql_client.get("/api/tables", headers=sql_project.headers("analyst")).json()
    ]
    assert "users" in names and "body_metrics" not in names
    assert not [n for n in names if n.startswith("_sm_")]


def test_a_result_stops_at_the_size_budget(sql_client: TestClient, sql_project: Project) -> None:
    megabyte = 1 << 20
    status, body = run(
        sql_client, sql_project, f"SELECT repeat('x', {megabyte}) AS s FROM range(45)"
    )
    assert status == 200 and body["truncated"] is True, (status, str(body)[:200])
    assert body["row_count"] == MAX_RESULT_BYTES // megabyte - 1
    status, body = run(sql_client, sql_project, "SELECT repeat('x', 40000000) AS s")
    assert status == 400 and "larger than 32 MB" in str(body["detail"]), str(body)[:200]


def test_deeply_nested_sql_is_refused_and_audited(
    sql_client: TestClient, sql_project: Project
) -> None:
    for sql in (
        "SELECT " + "(" * 3000 + "1" + ")" * 3000,
        "SELECT " + "abs(" * 2000 + "1" + ")" * 2000,
    ):
        status, body = run(sql_client, sql_project, sql)
        assert status == 400 and "nested too deeply" in str(body["detail"]), str(body)[:200]
        entry = list(AuditLog(sql_project.config.audit_log).entries())[-1]
        assert entry.kind == "server.sql" and entry.data["sql"] == sql
        assert entry.data["refused"] is True
    status, body = run(sql_client, sql_project, "SELECT 42 AS answer")
    assert status == 200 and body["rows"] == [[42]]


def test_a_query_that_breaks_the_server_is_still_audited(
    sql_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, client_gone: Coroutine[None, None, None], **_: object) -> None:
        client_gone.close()
        raise RuntimeError("a bug")

    monkeypatch.setattr("safemirror.server.sqlworker.SqlWorker.query", broken)
    client = TestClient(
        create_app(sql_project.config), base_url="http://127.0.0.1", raise_server_exceptions=False
    )
    status = client.post(
        "/api/sql", json={"sql": "SELECT 5"}, headers=sql_project.headers("analyst")
    ).status_code
    assert status == 500
    entry = list(AuditLog(sql_project.config.audit_log).entries())[-1]
    assert entry.kind == "server.sql" and entry.data["sql"] == "SELECT 5"
    assert entry.data["error"] == "internal error (RuntimeError)"

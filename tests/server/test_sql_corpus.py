"""Analysts' legitimate SQL works through the API with DuckDB's own answers; refusals say
what was refused. The cases are in ``sql_corpus.sql`` (its header says how to read it) and
``sql_corpus_syntax.sql`` (DuckDB's own syntax: the regenerated query must mean the same)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from safemirror.server.app import create_app
from safemirror.server.sandbox import jsonable
from safemirror.server.sqljson import raw_rows
from tests.server.conftest import Project, make_project

CORPORA = [Path(__file__).with_name(name) for name in ("sql_corpus.sql", "sql_corpus_syntax.sql")]


def cases() -> list[tuple[str, str, str]]:
    """(name, expectation, sql) of every case in the corpus files."""
    found = []
    for corpus in CORPORA:
        parts = re.split(r"^-- @ ", corpus.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
        for part in parts:
            head, _, sql = part.partition("\n")
            name, _, expect = head.partition(" ")
            found.append((name, expect.strip(), sql.strip()))
    return found


CASES = cases()


@pytest.fixture(scope="module")
def corpus_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def corpus_client(corpus_project: Project) -> Iterator[TestClient]:
    with TestClient(create_app(corpus_project.config), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture(scope="module")
def mirror(corpus_project: Project) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(corpus_project.config.mirror), read_only=True)
    yield con
    con.close()


def same(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 (parallel aggregation sums in any order)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def ordered(sql: str) -> bool:
    return "ORDER BY" in sql.upper().rsplit(")", 1)[-1]


def post(client: TestClient, project: Project, sql: str, role: str = "analyst") -> Any:
    return client.post("/api/sql", json={"sql": sql}, headers=project.headers(role))


def test_the_corpus_is_broad() -> None:
    assert len([c for c in CASES if not c[1].startswith("refused")]) >= 800
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "expect", "sql"), CASES, ids=[c[0] for c in CASES])
def test_corpus(
    corpus_client: TestClient,
    corpus_project: Project,
    mirror: duckdb.DuckDBPyConnection,
    name: str,
    expect: str,
    sql: str,
) -> None:
    response = post(corpus_client, corpus_project, sql)
    body = response.json()
    kind, _, arg = expect.partition(" ")
    if kind == "refused":
        assert response.status_code == 400, body
        said = f"{body['detail']} {body.get('hint') or ''}"
        assert arg in said, said
        return
    assert response.status_code == 200, body
    assert body["row_count"] == len(body["rows"])
    assert len(body["types"]) == len(body["columns"])
    if kind == "json":
        assert {k: body[k] for k in ("columns", "types", "rows")} == json.loads(arg)
        return
    if kind == "rows":
        assert body["row_count"] == int(arg) and body["truncated"] is True
        return
    cursor = mirror.execute(sql)
    assert body["columns"] == [d[0] for d in cursor.description]
    assert body["types"] == [str(d[1]) for d in cursor.description]
    raw = raw_rows(cursor, body["types"], 256)  # as the server reads them (intervals whole)
    expected = json.loads(json.dumps([[jsonable(v) for v in row] for row in raw]))
    assert body["truncated"] is False
    rows = body["rows"]
    if not ordered(sql):
        rows, expected = sorted(rows, key=repr), sorted(expected, key=repr)
    assert same(rows, expected), (rows[:5], expected[:5])


def test_roles(corpus_client: TestClient, corpus_project: Project) -> None:
    sql = "SELECT country, count(*) AS n FROM users GROUP BY ALL ORDER BY ALL"
    analyst = post(corpus_client, corpus_project, sql).json()
    admin = post(corpus_client, corpus_project, sql, "admin")
    assert admin.status_code == 200 and admin.json()["rows"] == analyst["rows"]
    viewer = post(corpus_client, corpus_project, sql, "viewer")
    assert viewer.status_code == 403, viewer.text

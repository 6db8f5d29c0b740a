"""Property-based API tests from the OpenAPI spec: no 5xx, responses match the spec, and
no operation answers without a key."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from safemirror.server.app import create_app
from tests.server.conftest import Project, make_project


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("fuzz"), query_timeout_s=2.0, max_rows=100)


@pytest.fixture(scope="module")
def fuzz_app(fuzz_project: Project) -> FastAPI:
    return create_app(fuzz_project.config, failure_limit=100_000)


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI, fuzz_project: Project) -> schemathesis.BaseSchema:
    assert fuzz_app.openapi_schema is None
    return schemathesis.openapi.from_asgi(
        "/openapi.json", fuzz_app, headers=fuzz_project.headers("viewer")
    )


def test_spec_needs_a_key(fuzz_app: FastAPI) -> None:
    from fastapi.testclient import TestClient

    assert TestClient(fuzz_app).get("/openapi.json").status_code == 401


# Schema-valid but meaningless input (SQL that is refused, a range that ends before it
# starts, a dimension the metric lacks) is rejected with a documented 400, by design.
SEMANTIC = [positive_data_acceptance]


def test_api_conforms(api_schema: schemathesis.BaseSchema, fuzz_project: Project) -> None:
    """With an admin key: no server error, every response as documented; without: 401."""
    admin = fuzz_project.headers("admin")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=admin, excluded_checks=SEMANTIC)
            if case.path != "/api/health":
                case.headers = {
                    k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
                }
                anonymous = case.call()
                assert anonymous.status_code in (401, 422), (case.method, case.path)

        check()

"""Fuzz every operation of the spec in-process: no 500, and every response conforms to it.

Cases come from schemathesis strategies driven by Hypothesis inside an ordinary test (the
``schemathesis.pytest.from_fixture`` loader does not run under pytest 9.2). Each operation is
one test, run with an admin token; operations on one user also get cases aimed at an existing
account, so that not every case ends in a 404.
"""

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import make_user

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SPEC_FILE = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
OPERATIONS = [
    (method.upper(), path)
    for path, item in json.loads(SPEC_FILE.read_text()).get("paths", {}).items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_the_spec(app, session, admin_headers, method, path):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]
    target = make_user(session, role="staff")
    session.commit()
    strategies = [operation.as_strategy(mode) for mode in GenerationMode]
    if "{user_id}" in path:
        strategies += [
            operation.as_strategy(mode, path_parameters={"user_id": str(target.id)})
            for mode in GenerationMode
        ]

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=admin_headers, checks=CHECKS)

    run()

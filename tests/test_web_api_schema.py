"""schemathesis over /api/v1/openapi.json as each demo role: no 5xx, and every answer (its
status, media type, headers and body) is one the schema describes.

Small by default (a few examples per operation and role); `pytest -m full` runs many more.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_support import bearer, full_size, token_for
from workflow.app import App
from workflow.vocabulary import Role

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SMALL, FULL = 2, 40


@pytest.mark.full
def test_the_api_keeps_its_schema_for_every_role(
    web: FastAPI, demo_app: App, request: pytest.FixtureRequest
) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", web)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{o.method.upper()} {o.path}" for o in operations} >= {
        "GET /api/v1/cases",
        "POST /api/v1/cases",
        "GET /api/v1/cases/{ref}",
        "GET /api/v1/cases/{ref}/steps",
        "POST /api/v1/cases/{ref}/steps/{trigger}",
    }
    headers = {role: bearer(token_for(demo_app, role, name="schemathesis")) for role in Role}
    examples = FULL if full_size(request) else SMALL
    for operation in operations:
        for role in Role:
            _fuzz(operation, headers[role], examples)


def _fuzz(operation: Any, sent: dict[str, str], examples: int) -> None:
    """`examples` generated requests to one operation, as one person; every check holds."""

    @given(operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=sent, checks=CHECKS)

    check()

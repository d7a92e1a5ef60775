"""The API against its own OpenAPI document (issue 18 item 9): schemathesis generates requests
for every operation from the document, sends them to the WSGI application as a user whose
roles open every casework module, and requires no server error and no answer the document
does not describe (status code, content type, body schema).

Bounded so that it stays a few seconds per operation at most: a fixed number of examples per
operation, derandomized (the same examples every run, so a failure reproduces), no shrinking
and no example database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from ninja.responses import NinjaJSONEncoder
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from haven.accounts.roles import Clearance, Role
from haven.api import api
from tests.factories import UserFactory, issue_token

EXAMPLES_PER_OPERATION = 4
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Every role that opens a module (not the administrator, whom no casework opens), cleared to
# the top: the widest reach, so generated requests get past the gates to the operations.
ROLES = [
    Role.PROTECTION_MANAGER,
    Role.PROTECTION_OFFICER,
    Role.IDENTITY_OFFICER,
    Role.TECHNICAL_SUPERVISOR,
    Role.OVERSIGHT_OFFICER,
    Role.AUDITOR,
]


def document() -> dict[str, Any]:
    return json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


schema = schemathesis.openapi.from_dict(document())
# The coverage phase sends every boundary of every parameter (dozens of requests per
# operation): too slow for each run of the suite. The fuzzing phase's bounded examples stay.
schema.config.phases.coverage.enabled = False


@pytest.fixture
def bearer(db: None) -> dict[str, str]:
    user = UserFactory(roles=ROLES, clearance=Clearance.TOP_SECRET)
    _, secret = issue_token(user)
    return {"Authorization": f"Bearer {secret}", "X-Haven-Purpose": "case_management"}


@pytest.fixture
def application() -> Iterator[Any]:
    """The real WSGI application, with requests kept inside the test's transaction: Django
    closes the database connection at the end of each request, which the test client (and
    here this fixture) turns off, as a closed connection would end the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case: Any, bearer: dict[str, str], application: Any):
    case.call_and_validate(headers=bearer, checks=CHECKS, app=application)

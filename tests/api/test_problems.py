"""Input the API cannot take is a 4xx problem+json, never a 500 (issue 18 item 9)."""

from __future__ import annotations

import base64

import pytest
from django.test import Client, override_settings

from haven.accounts.roles import Role
from haven.api import api
from haven.cases.models import Document
from haven.ui.apihelpers import QueryFilters
from tests.factories import UserFactory, issue_token, make_case

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def officer_with_case():  # type: ignore[no-untyped-def]
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    case = make_case(officer)
    _, secret = issue_token(officer)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management")
    return client, case


def document_body(size: int) -> dict[str, str]:
    content = b"%PDF-1.4\n" + b"0" * (size - 9)
    return {
        "title": "Fictional scan",
        "filename": "scan.pdf",
        "content_base64": base64.b64encode(content).decode(),
    }


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024)
def test_a_body_over_the_configured_limit_is_a_413_problem():
    client, case = officer_with_case()
    body = document_body(100 * 1024)
    response = client.post(f"/api/cases/{case.pk}/documents", body, content_type="application/json")
    assert response.status_code == 413, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert not Document.objects.exists()


def test_a_three_megabyte_document_uploads_by_api_under_the_default_limit():
    """2–10 MB documents answered 500 (Django's 2.5 MB default body limit)."""
    client, case = officer_with_case()
    response = client.post(
        f"/api/cases/{case.pk}/documents", document_body(3 * MB), content_type="application/json"
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()["size"] == 3 * MB


def test_every_operations_query_parameters_are_checked_in_one_place():
    """Query parameters are declared as one QueryFilters schema per operation, so the checks
    every parameter needs (dates within the calendar Haven accepts) apply to all of them."""
    loose = []
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for model in operation.models:
                    if model.__ninja_param_source__ != "query":
                        continue
                    for name, field in model.model_fields.items():
                        kind = field.annotation
                        if not (isinstance(kind, type) and issubclass(kind, QueryFilters)):
                            loose.append(f"{prefix}{path} {name}")
    assert not loose, f"declare these as a QueryFilters schema: {loose}"


def test_a_date_query_parameter_outside_the_calendar_is_a_422_naming_it():
    _, secret = issue_token(UserFactory(roles=[Role.AUDITOR]))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.get("/api/audit/entries", {"date_from": "9999-12-31"})
    assert response.status_code == 422
    assert [e["location"] for e in response.json()["errors"]] == ["query.date_from"]
    assert client.get("/api/audit/entries", {"date_from": "2026-01-05"}).status_code == 200


def test_the_openapi_document_declares_each_operations_problem_answers():
    document = api.get_openapi_schema()
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            wanted = {"403", "404"} | ({"401"} if operation.get("security") else set())
            if method in {"post", "put", "patch", "delete"}:
                wanted |= {"409", "413", "422"}
            for code in wanted:
                content = operation["responses"].get(code, {}).get("content", {})
                if "application/problem+json" not in content:
                    missing.append(f"{method.upper()} {path} {code}")
    assert not missing, missing


def test_nul_characters_in_a_body_or_query_are_a_422_naming_the_field():
    """PostgreSQL refuses NUL in text mid-write: schemathesis found it as a 500."""
    client, case = officer_with_case()
    response = client.post(
        f"/api/cases/{case.pk}/people",
        {"full_name": "Nul\x00Fictional", "role": "principal"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert [e["location"] for e in response.json()["errors"]] == ["body.full_name"]
    response = client.get("/api/cases", {"reference": "PP\x00"})
    assert response.status_code == 422
    assert [e["location"] for e in response.json()["errors"]] == ["query.reference"]

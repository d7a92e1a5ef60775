"""ASVS 4.0.3 13.1.5 and 13.2.5: an API write whose body is not declared as JSON is refused
with a 415 problem and changes nothing, even when the bytes would parse as JSON."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.factories import PASSWORD, UserFactory, current_code, issue_token

pytestmark = pytest.mark.django_db

NEW = "a quite different passphrase 42"


def password_change(user, content_type: str):  # type: ignore[no-untyped-def]
    _, secret = issue_token(user)
    body = json.dumps(
        {"current_password": PASSWORD, "new_password": NEW, "code": current_code(user)}
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}").post(
        "/api/account/password", body, content_type=content_type
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
    ],
)
def test_a_body_that_is_not_json_is_a_415_problem_and_nothing_changes(content_type):
    user = UserFactory()
    answer = password_change(user, content_type)
    assert answer.status_code == 415
    assert answer["Content-Type"].startswith("application/problem+json")
    assert answer.json()["title"] == "Unsupported media type"
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and user.failed_logins == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_a_json_body_is_taken(content_type):
    user = UserFactory()
    assert password_change(user, content_type).status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_the_document_declares_the_415_for_operations_with_a_body():
    from haven.api import api

    schema = api.get_openapi_schema()
    change = schema["paths"]["/api/account/password"]["post"]
    assert "415" in change["responses"]
    assert "415" not in schema["paths"]["/api/account/passkeys"]["get"]["responses"]

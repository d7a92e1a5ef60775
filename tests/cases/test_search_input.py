"""Bad search input is a 4xx naming the field, never a server error (issue 18 item 9)."""

from __future__ import annotations

import pytest
from django.test import Client

from haven.accounts.roles import Role
from tests.factories import UserFactory, force_sign_in, issue_token, make_case

pytestmark = pytest.mark.django_db


def api_client(user) -> Client:  # type: ignore[no-untyped-def]
    _, secret = issue_token(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management")


def web_client(user) -> Client:  # type: ignore[no-untyped-def]
    client = force_sign_in(Client(), user)
    session = client.session
    session["haven_purpose"] = "case_management"
    session.save()
    return client


def fields_named(response) -> list[str]:  # type: ignore[no-untyped-def]
    body = response.json()
    return [error["location"].split(".")[-1] for error in body.get("errors", [])] or [
        body.get("title", "") + " " + body.get("detail", "")
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"name": "--- ..."}, "name"),
        ({"dob": "31/02/1980"}, "dob"),
        ({"dob": "not a date"}, "dob"),
        ({"older_than_days": 99999999999}, "older_than_days"),
        ({"older_than_days": 800000}, "older_than_days"),
    ],
)
def test_api_case_search_refuses_bad_input_with_422_naming_the_field(query, field):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    make_case(officer)
    response = api_client(officer).post("/api/cases/search", query, content_type="application/json")
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in " ".join(fields_named(response))


@pytest.mark.parametrize(
    ("query", "field"),
    [({"name": "--- ..."}, "name"), ({"dob": "31/02/1980"}, "dob")],
)
def test_web_case_search_shows_the_field_error(query, field):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    make_case(officer)
    response = web_client(officer).post("/cases/", query)
    assert response.status_code == 200
    assert f'id="id_{field}-error"' in response.content.decode()


def test_api_list_refuses_a_huge_older_than_days_in_the_query():
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    response = api_client(officer).get("/api/cases", {"older_than_days": "800000"})
    assert response.status_code == 422
    assert fields_named(response) == ["older_than_days"]

"""A complainant's name is searched by POST only, never in a URL (issue 18 item 8)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

import pytest
from django.test import Client

from haven.accounts.roles import Role
from haven.audit.models import Action, LedgerEntry
from tests.factories import UserFactory, force_sign_in, issue_token
from tests.oversight.helpers import complaint, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

NAME = "Ivor Fictional-Complainant"
OTHER = "Una Otherwise-Fictional"


def urls_in(html: str) -> list[str]:
    return re.findall(r'(?:href|action|src|hx-get|hx-post)="([^"]*)"', html)


def carries_name(url: str) -> bool:
    lowered = url.lower()
    return any(
        form.lower() in lowered
        for name in (NAME, "Ivor", "Fictional-Complainant")
        for form in (name, quote(name), quote_plus(name))
    )


def test_the_web_search_is_a_post_and_no_url_on_the_page_carries_the_name():
    user = officer()
    wanted = complaint(user)
    other = complaint(user, complainant_name=OTHER)
    web = force_sign_in(Client(), user)
    form_page = web.get("/oversight/complaints/").content.decode()
    assert 'data-testid="complainant-search"' in form_page and 'method="post"' in form_page
    response = web.post("/oversight/complaints/?status=", {"complainant": NAME.upper()})
    page = response.content.decode()
    assert response.status_code == 200
    assert wanted.reference in page and other.reference not in page
    assert not [url for url in urls_in(page) if carries_name(url)]
    assert not carries_name(response.request["PATH_INFO"] + response.request["QUERY_STRING"])
    entry = LedgerEntry.objects.filter(actor=user, action=Action.CONSULTATION).latest("id")
    assert "complainant_name" in entry.fields


def test_a_name_in_the_url_is_refused_on_the_list_and_the_csv():
    user = officer()
    complaint(user)
    web = force_sign_in(Client(), user)
    before = LedgerEntry.objects.count()
    for path in ("/oversight/complaints/", "/oversight/complaints/export.csv"):
        response = web.get(path, {"complainant": NAME})
        assert response.status_code == 400, path
        assert NAME not in response.content.decode()
    assert LedgerEntry.objects.count() == before  # nothing was searched


def test_a_name_of_no_letters_is_a_field_error_and_nothing_is_searched():
    web = force_sign_in(Client(), officer())
    page = web.post("/oversight/complaints/", {"complainant": "!!!"}).content.decode()
    assert "Enter a name with at least one letter" in page
    assert 'data-testid="complaint-table"' not in page


def test_the_api_searches_by_post_body_and_refuses_the_name_in_the_query():
    user = officer()
    wanted = complaint(user)
    complaint(user, complainant_name=OTHER)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user)[1]}")
    refused = client.get("/api/oversight/complaints", {"complainant": NAME})
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    found = client.post(
        "/api/oversight/complaints/search",
        json.dumps({"complainant": NAME}),
        content_type="application/json",
    )
    assert found.status_code == 200, found.content
    assert [item["reference"] for item in found.json()["results"]] == [wanted.reference]
    bad = client.post(
        "/api/oversight/complaints/search",
        json.dumps({"complainant": "..."}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"


def test_someone_outside_oversight_cannot_search_complainants():
    complaint(officer())
    outsider = UserFactory(roles=[Role.PROTECTION_OFFICER])
    web = force_sign_in(Client(), outsider)
    assert web.post("/oversight/complaints/", {"complainant": NAME}).status_code == 404
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(outsider)[1]}")
    response = client.post(
        "/api/oversight/complaints/search",
        json.dumps({"complainant": NAME}),
        content_type="application/json",
    )
    assert response.status_code == 404

"""Side channels (issue 18 item 8): the duplicate check is no oracle for who is under
protection, and people are searched by POST, never by name or date of birth in a URL."""

from __future__ import annotations

import logging
from datetime import date

import pytest
import time_machine
from django.db import transaction
from django.test import Client

from haven.accounts.roles import Clearance, Role
from haven.cases.models import Case
from haven.notifications.models import Notification
from tests.factories import UserFactory, force_sign_in, issue_token, make_case

pytestmark = pytest.mark.django_db

NAME, DOB = "Ottilie Fictional-Protected", date(1990, 5, 17)
REFERRAL = {
    "subject_name": NAME,
    "subject_dob": DOB.isoformat(),
    "referring_organisation": "Testshire Constabulary",
    "referring_officer": "DC Fictional",
    "threat_summary": "A fictional threat.",
    "urgency": "routine",
}


def api_client(user, **scope) -> Client:  # type: ignore[no-untyped-def]
    _, secret = issue_token(user, **scope)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management")


def web_client(user) -> Client:  # type: ignore[no-untyped-def]
    client = force_sign_in(Client(), user)
    session = client.session
    session["haven_purpose"] = "case_management"
    session.save()
    return client


def referral_answer(officer) -> bytes:  # type: ignore[no-untyped-def]
    """The officer's whole API answer to a referral, with the new case's own id and reference
    (which differ whatever is matched) replaced by placeholders."""
    response = api_client(officer).post(
        "/api/referrals",
        REFERRAL | {"classification": Clearance.OFFICIAL},
        content_type="application/json",
    )
    case = Case.objects.order_by("-created_at", "-reference").first()
    assert response.status_code == 201 and case is not None, response.content
    body = response.content.replace(str(case.pk).encode(), b"<id>")
    return b"201 " + body.replace(case.reference.encode(), b"<ref>")


def no_match_answer(officer) -> bytes:  # type: ignore[no-untyped-def]
    """The answer with nothing to match, then undone (so it is not itself a match later)."""
    with transaction.atomic():
        answer = referral_answer(officer)
        transaction.set_rollback(True)
    return answer


@time_machine.travel("2026-03-02 10:00:00+00:00", tick=False)
@pytest.mark.parametrize("outside", ["above clearance", "outside the team"])
def test_a_hidden_match_answers_the_officer_exactly_as_no_match(outside):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL)
    other_manager = UserFactory(roles=[Role.PROTECTION_MANAGER], clearance=Clearance.TOP_SECRET)
    other_lead = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.TOP_SECRET)
    without_match = no_match_answer(officer)
    marking = Clearance.TOP_SECRET if outside == "above clearance" else Clearance.OFFICIAL
    hidden = make_case(
        other_lead, name=NAME, subject_dob=DOB, manager=other_manager, classification=marking
    )
    with_match = referral_answer(officer)
    assert with_match == without_match
    # The match went to the hidden case's manager only, never to the officer.
    assert Notification.objects.filter(user=other_manager, reference=hidden.reference).exists()
    assert not Notification.objects.filter(user=officer).exists()


def test_a_match_the_officer_may_see_is_still_shown():
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    seen = make_case(officer, name=NAME, subject_dob=DOB)
    response = api_client(officer).post(
        "/api/referrals",
        REFERRAL,
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["duplicates"]["visible"] == [seen.reference]


# ------------------------------------------------------------------ names out of URLs


@pytest.mark.parametrize("query", [{"name": NAME}, {"dob": "1990-05-17"}])
def test_personal_search_terms_in_a_url_are_refused(query):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    make_case(officer, name=NAME, subject_dob=DOB)
    for path in ("/api/cases", "/api/triage", "/api/case-export"):
        response = api_client(officer).get(path, query)
        assert response.status_code == 422, path
        assert "POST /api/cases/search" in response.json()["title"]
    for path in ("/cases/", "/cases/export.csv"):
        response = web_client(officer).get(path, query)
        assert response.status_code == 400, path
        assert NAME.encode() not in response.content


def test_people_are_found_by_post_body_in_the_api_even_with_a_read_only_token():
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    case = make_case(officer, name=NAME, subject_dob=DOB)
    make_case(officer, name="Someone Else-Fictional")
    client = api_client(officer, can_write=False)
    response = client.post(
        "/api/cases/search",
        {"name": "ottilie fictional protected", "dob": "17/5/1990"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert [row["reference"] for row in response.json()["results"]] == [case.reference]


def test_the_web_finds_people_by_post_and_logs_no_name_in_any_url(caplog):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    case = make_case(officer, name=NAME, subject_dob=DOB)
    make_case(officer, name="Someone Else-Fictional")
    client = web_client(officer)
    page = client.get("/cases/", {"status": "referred"}).content.decode()
    assert 'method="post" action="?status=referred"' in page  # the person form posts
    with caplog.at_level(logging.DEBUG):
        response = client.post("/cases/?status=referred", {"name": NAME, "dob": "17/05/1990"})
    assert response.status_code == 200
    body = response.content.decode()
    assert case.reference in body and "Someone Else" not in body
    request = response.wsgi_request
    links = [link.split('"')[0] for link in body.split('href="')[1:]]
    urls = [request.get_full_path(), *links]
    assert not any("Ottilie" in url or "1990" in url for url in urls), urls
    assert "Ottilie" not in caplog.text

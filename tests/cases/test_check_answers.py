"""Check your answers (haven.ui.answers) before a referral and before an s.82 decision: the
answers are kept sealed in the session, listed with Change links, and only "Submit" acts."""

from __future__ import annotations

import re

import pytest

from haven.accounts.roles import Role
from haven.cases import services
from haven.cases.models import Case, CaseStatus, Decision
from haven.ui.answers import SESSION_ANSWERS
from tests.cases.test_casework import FACTORS, advance, web
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REFERRAL = {
    "subject_name": "Wilhelmina Checkanswers",
    "subject_dob_day": "17",
    "subject_dob_month": "5",
    "subject_dob_year": "1991",
    "referring_organisation": "Midshire Police",
    "referring_officer": "DC Example",
    "threat_summary": "Threats from the defendant's associates",
    "urgency": "routine",
    "received_at": "2026-01-05T10:00",
    "classification": "2",
}


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def authoriser():
    return UserFactory(roles=[Role.AUTHORISING_OFFICER])


@pytest.fixture
def referral(officer, authoriser):
    return services.create_case(
        officer,
        subject_name="Ottilie Fictional",
        referring_organisation="Midshire Police",
        referring_officer="DC Example",
        threat_summary="Threats from the defendant's associates",
        urgency="urgent",
        manager=UserFactory(roles=[Role.PROTECTION_MANAGER]),
        authoriser=authoriser,
    )


def response_url(body: str) -> str:
    """Every address the page links or posts to."""
    return " ".join(re.findall(r'(?:href|action)="([^"]*)"', body))


def test_a_referral_is_checked_before_it_is_recorded(client, officer):
    web(client, officer)
    response = client.post("/cases/referrals/new/", REFERRAL)
    assert response.status_code == 302 and response["Location"] == "/cases/referrals/new/check/"
    assert not Case.objects.exists()
    body = client.get("/cases/referrals/new/check/").content.decode()
    assert "Check your answers" in body and "Wilhelmina Checkanswers" in body
    assert "17 May 1991" in body and "Routine" in body  # plain words, not codes
    assert 'href="/cases/referrals/new/?change#id_subject_name"' in body
    response = client.post("/cases/referrals/new/check/")
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.subject_name == "Wilhelmina Checkanswers" and case.urgency == "routine"
    assert SESSION_ANSWERS not in client.session or not client.session[SESSION_ANSWERS]
    # submitting again records nothing twice: the answers are gone, back to the form
    assert client.post("/cases/referrals/new/check/")["Location"] == "/cases/referrals/new/"
    assert Case.objects.count() == 1


def test_the_answers_are_sealed_in_the_session_never_in_the_page(client, officer):
    web(client, officer)
    client.post("/cases/referrals/new/", REFERRAL)
    kept = client.session[SESSION_ANSWERS]["referral"]
    assert kept.startswith("hv1.") and "Wilhelmina" not in kept
    body = client.get("/cases/referrals/new/check/").content.decode()
    hidden = re.findall(r'type="hidden" name="([^"]+)"', body)
    assert set(hidden) <= {"csrfmiddlewaretoken"} and "Wilhelmina" not in response_url(body)


def test_change_reopens_the_form_with_the_answers(client, officer):
    web(client, officer)
    client.post("/cases/referrals/new/", REFERRAL)
    body = client.get("/cases/referrals/new/?change").content.decode()
    assert 'value="Wilhelmina Checkanswers"' in body and "govuk-error-summary" not in body
    client.post("/cases/referrals/new/", {**REFERRAL, "subject_name": "Wilhelmina Changed"})
    client.post("/cases/referrals/new/check/")
    assert Case.objects.get().subject_name == "Wilhelmina Changed"


def test_the_check_page_without_answers_goes_back_to_the_form(client, officer):
    web(client, officer)
    response = client.get("/cases/referrals/new/check/")
    assert response.status_code == 302 and response["Location"] == "/cases/referrals/new/"


def test_another_role_cannot_check_or_submit_a_referral(client, officer, authoriser):
    web(client, officer)
    client.post("/cases/referrals/new/", REFERRAL)
    web(client, authoriser)  # a new sign-in: a new session, and no referral role
    assert client.get("/cases/referrals/new/check/").status_code == 403
    assert client.post("/cases/referrals/new/check/").status_code == 403
    assert not Case.objects.exists()


def decision_data(case):
    case.refresh_from_db()
    return {
        "version": str(case.version),
        "to_status": "accepted",
        "decided_on_day": "2",
        "decided_on_month": "1",
        "decided_on_year": "2026",
        "reason": "Threat to life is credible",
        **FACTORS,
    }


def test_an_arrangement_decision_is_checked_before_it_is_recorded(
    client, officer, authoriser, referral
):
    advance(officer, referral, "assessed")
    web(client, authoriser)
    response = client.post(f"/cases/{referral.pk}/decision/", decision_data(referral))
    assert response["Location"] == f"/cases/{referral.pk}/decision/check/"
    referral.refresh_from_db()
    assert referral.status == CaseStatus.ASSESSED
    body = client.get(f"/cases/{referral.pk}/decision/check/").content.decode()
    assert "Check your answers" in body and "Threat to life is credible" in body
    assert "2 January 2026" in body and "Receiving provider" not in body  # blanks left out
    assert f'href="/cases/{referral.pk}/decision/?change#id_reason"' in body
    response = client.post(f"/cases/{referral.pk}/decision/check/")
    assert response["Location"] == f"/cases/{referral.pk}/"
    referral.refresh_from_db()
    assert referral.status == CaseStatus.ACCEPTED
    assert Decision.objects.filter(case=referral, to_status="accepted").count() == 1


def test_a_decision_no_longer_open_is_refused_on_submit(client, officer, authoriser, referral):
    advance(officer, referral, "assessed")
    web(client, authoriser)
    client.post(f"/cases/{referral.pk}/decision/", decision_data(referral))
    advance(authoriser, referral, "accepted", decided_on=None, factors=FACTORS)  # someone else
    response = client.post(f"/cases/{referral.pk}/decision/check/")
    assert response.status_code == 200 and "govuk-error-summary" in response.content.decode()
    assert Decision.objects.filter(case=referral, to_status="accepted").count() == 1


def test_an_officer_cannot_submit_an_acceptance_through_the_check_page(client, officer, referral):
    advance(officer, referral, "assessed")
    web(client, officer)
    client.post(f"/cases/{referral.pk}/decision/", decision_data(referral))
    response = client.post(f"/cases/{referral.pk}/decision/check/")
    assert response.status_code in (200, 302)
    referral.refresh_from_db()
    assert referral.status == CaseStatus.ASSESSED


def test_short_choice_lists_on_the_referral_and_contact_forms_are_radios(client, officer, referral):
    web(client, officer)
    body = client.get("/cases/referrals/new/").content.decode()
    assert 'name="classification" type="radio" value="2" checked' in body
    assert '<select name="classification"' not in body
    contact = client.get(f"/cases/{referral.pk}/contacts/new/")
    html = contact.content.decode()
    assert contact.status_code == 200 and '<select name="method"' not in html
    assert 'name="method" type="radio" value="in_person"' in html

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from haven.accounts import services as account_services
from haven.audit.models import LedgerEntry
from haven.risk import services
from haven.risk.models import RiskAssessment
from tests.factories import force_sign_in

from .helpers import OSMAN, approved, draft, make_team

pytestmark = pytest.mark.django_db


def api(user):  # type: ignore[no-untyped-def]
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="risk_review")


def call(client, method, path, body=None):  # type: ignore[no-untyped-def]
    return client.generic(
        method, f"/api{path}", json.dumps(body or {}), content_type="application/json"
    )


def test_the_api_takes_an_assessment_from_draft_to_overdue_review():
    team = make_team()
    officer, manager, authoriser = api(team.officer), api(team.manager), api(team.authoriser)
    case = team.case.pk
    bad = call(officer, "POST", f"/risk/cases/{case}/assessments", {"likelihood": 7, "impact": 2})
    assert bad.status_code == 422 and "1 to 5" in bad.json()["title"]
    no_osman = {"likelihood": 5, "impact": 5, "residual_likelihood": 3, "residual_impact": 5,
                "threat_to_life": True}  # fmt: skip
    refused = call(officer, "POST", f"/risk/cases/{case}/assessments", no_osman)
    assert refused.status_code == 422 and "osman_third_party" in refused.json()["title"]
    assert not RiskAssessment.objects.exists()
    created = call(officer, "POST", f"/risk/cases/{case}/assessments", {**no_osman, **OSMAN})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["score"], body["band"], body["status"]) == (25, "very_high", "draft")
    aid = body["id"]
    threat_body = {"source": "OCG", "likelihood": 5, "impact": 5, "linked_people": ["P1"]}
    threat = call(officer, "POST", f"/risk/assessments/{aid}/threats", threat_body)
    assert threat.status_code == 201 and threat.json()["ref"] == "R1"
    served = call(officer, "POST", f"/risk/assessments/{aid}/notices",
                  {"kind": "warning", "decision": "served", "recipient": "Witness"})  # fmt: skip
    assert served.status_code == 422 and "served_by" in served.json()["title"]
    early = call(authoriser, "POST", f"/risk/assessments/{aid}/endorse")
    assert early.status_code == 422 and "approve" in early.json()["title"]
    assert call(officer, "POST", f"/risk/assessments/{aid}/submit").status_code == 200
    assert call(officer, "POST", f"/risk/assessments/{aid}/approve").status_code == 403
    approved_body = call(manager, "POST", f"/risk/assessments/{aid}/approve").json()
    assert approved_body["status"] == "approved" and approved_body["is_current"]
    due = approved_body["next_review_on"]
    assert due == str(timezone.localdate() + timedelta(days=7))
    patch = call(officer, "PATCH", f"/risk/assessments/{aid}", {"version": 9, "impact": 1})
    assert patch.status_code == 422 and "new version" in patch.json()["title"]
    endorsed = call(authoriser, "POST", f"/risk/assessments/{aid}/endorse", {"comments": "OK"})
    assert endorsed.json()["status"] == "endorsed"
    pdf = officer.get(f"/api/risk/assessments/{aid}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert LedgerEntry.objects.filter(action="disclosure", object_id=aid).count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        view = manager.get("/api/risk/portfolio?show=overdue").json()
        assert view["overdue"] == 1 and view["results"][0]["overdue"] is True
        assert view["results"][0]["assessment_id"] == aid
    assert call(officer, "GET", f"/risk/assessments/{aid}").json()["overdue"] is False


def test_the_api_decision_log_is_append_only():
    team = make_team()
    client = api(team.officer)
    path = f"/risk/cases/{team.case.pk}/decision-log"
    body = {"decided_at": timezone.now().isoformat(), "ndm_stage": "action",
            "decision": "Move tonight", "rationale": "Address known"}  # fmt: skip
    first = call(client, "POST", path, body)
    assert first.status_code == 201 and first.json()["sequence"] == 1
    second = call(client, "POST", path, {**body, "corrects": first.json()["id"]})
    assert second.json()["corrects"] == 1
    edit = call(client, "PATCH", f"/risk/decision-log/{first.json()['id']}")
    assert edit.status_code == 422 and "correct" in edit.json()["title"]
    assert [e["sequence"] for e in call(client, "GET", path).json()] == [1, 2]


def test_reads_need_a_purpose_header():
    team = make_team()
    assessment = approved(team)
    _, secret = account_services.issue_api_token(
        team.manager, "test", modules=team.manager.modules, can_write=True
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"/api/risk/assessments/{assessment.pk}").status_code == 400


def web(user):  # type: ignore[no-untyped-def]
    client = force_sign_in(Client(), user)
    session = client.session
    session["haven_purpose"] = "risk_review"
    session.save()
    return client


def test_the_web_form_shows_errors_and_saves_nothing():
    team = make_team()
    client = web(team.officer)
    response = client.post(
        f"/risk/cases/{team.case.pk}/assessments/new/",
        {"likelihood": "3", "impact": "", "residual_likelihood": "2", "residual_impact": "2",
         "threat_to_life": "on"},
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in html
    assert "Choose the impact from 1 to 5" in html
    assert "Record the identified individual" not in html  # form errors first, then services
    assert not RiskAssessment.objects.exists()


def test_pages_need_a_purpose_and_render_the_heat_map_without_inline_style():
    team = make_team()
    assessment = approved(team)
    client = force_sign_in(Client(), team.manager)
    response = client.get(f"/risk/assessments/{assessment.pk}/")
    assert response.status_code == 302 and "/purpose/" in response["Location"]
    client = web(team.manager)
    for url in (f"/risk/assessments/{assessment.pk}/", f"/risk/cases/{team.case.pk}/", "/risk/"):
        html = client.get(url).content.decode()
        assert "risk-colour--amber" in html and "style=" not in html and "<script>" not in html
    page = client.get("/risk/").content.decode()
    assert team.case.reference in page and 'data-testid="overdue-count"' in page
    consults = LedgerEntry.objects.filter(action="consultation", justification="risk_review")
    assert consults.filter(object_type="risk_assessment").count() == 4


def test_an_empty_return_with_comments_is_an_error_on_the_form_and_changes_nothing():
    team = make_team()
    assessment = draft(team)
    services.add_threat(team.officer, assessment.pk, source="OCG", likelihood=4, impact=5)
    services.submit_assessment(team.officer, assessment.pk)
    client = web(team.manager)
    response = client.post(f"/risk/assessments/{assessment.pk}/return/", {"comments": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "govuk-error-summary" in html and "Important" not in html
    assert '<a href="#id_comments">Say what needs to change</a>' in html
    assert "<title>Error: " in html
    assessment.refresh_from_db()
    assert assessment.status == "submitted"


def test_the_web_form_drafts_a_version_and_refuses_a_second_open_one():
    team = make_team()
    client = web(team.officer)
    url = f"/risk/cases/{team.case.pk}/assessments/new/"
    scores = {"likelihood": "3", "impact": "3", "residual_likelihood": "2", "residual_impact": "2"}
    drafted = client.post(url, scores, follow=True)
    [assessment] = RiskAssessment.objects.all()
    assert drafted.redirect_chain == [(f"/risk/assessments/{assessment.pk}/", 302)]
    assert "Version 1 drafted" in drafted.content.decode()

    refused = client.post(url, scores)  # the service refuses: version 1 is still a draft
    assert refused.status_code == 200 and "govuk-error-summary" in refused.content.decode()
    assert "finish it before starting another version" in refused.content.decode()
    assert RiskAssessment.objects.count() == 1

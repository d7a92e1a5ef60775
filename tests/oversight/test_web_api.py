from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.test import Client

from haven.accounts import services as account_services
from haven.accounts.roles import Role
from haven.audit.models import Action, LedgerEntry
from haven.oversight import services
from haven.oversight.models import Complaint, PensionForfeiture
from tests.factories import UserFactory, force_sign_in
from tests.oversight.helpers import complaint, handled_with_outcome, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def web(user=None) -> Client:
    return force_sign_in(Client(), user or officer())


def api(user) -> Client:
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_protection_officer_gets_404_on_pages_and_api():
    user = UserFactory(roles=[Role.PROTECTION_OFFICER])
    item = complaint(officer())
    assert web(user).get(f"/oversight/complaints/{item.pk}/").status_code == 404
    response = api(user).get(f"/api/oversight/complaints/{item.pk}")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "page",
    [
        "/oversight/panel-members/",
        "/oversight/hearings/",
        "/oversight/tribunals/",
        "/oversight/forfeitures/",
        "/oversight/statistics/outcomes.csv",
    ],
)
def test_another_module_gets_404_at_the_gate_on_lists_and_exports(page):
    """The oversight selectors leave the module check to the gate: this is that check."""
    user = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    assert web(user).get(page).status_code == 404
    response = api(user).get("/api" + page.rstrip("/").removesuffix(".csv"))
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    # Nothing was read: the only entries are security events (the token issued, a refusal).
    assert not LedgerEntry.objects.exclude(action=Action.SECURITY).exists()


def test_bad_complaint_form_shows_error_summary_and_saves_nothing():
    response = web().post(
        "/oversight/complaints/new/",
        {"received_on": "2025-02-30", "category": "other", "schedule3": "yes"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in body
    assert "Enter a real date" in body and "Enter the complainant" in body
    assert not Complaint.objects.exists()


def test_review_before_outcome_shown_as_form_error():
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    response = web(user).post(
        f"/oversight/complaints/{item.pk}/review/",
        {"received_on": "2025-06-01", "forwarded_days": "0", "extension_days": "0"},
    )
    assert "before the outcome notice" in response.content.decode()


def test_every_deadline_links_to_its_rule_on_the_rules_page():
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    services.record_review_application(user, item.pk, received_on=date(2025, 6, 2))
    client = web(user)
    page = client.get(f"/oversight/complaints/{item.pk}/").content.decode()
    anchors = set(re.findall(r'href="/oversight/rules/#([\w-]+)"', page))
    assert "rule-complaint_review_application" in anchors
    rules = client.get("/oversight/rules/").content.decode()
    for anchor in anchors:
        assert f'id="{anchor}"' in rules


def test_statistics_page_has_charts_and_suppression_and_exports():
    user = officer()
    complaint(user)
    client = web(user)
    body = client.get("/oversight/statistics/").content.decode()
    assert "<svg" in body and "[c]" in body and "style=" not in body
    response = client.get("/oversight/statistics/outcomes.csv")
    assert response["Content-Type"].startswith("text/csv") and b"[c]" in response.content
    pdf = client.get("/oversight/statistics/outcomes.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert LedgerEntry.objects.filter(action=Action.DISCLOSURE).count() == 2
    assert client.get("/oversight/statistics/nosuch.csv").status_code == 404


def test_api_complaint_flow_and_problem_json_on_bad_input():
    client = api(officer())
    response = client.post(
        "/api/oversight/complaints",
        json.dumps(
            {"received_on": "2025-05-01", "category": "other", "complainant_name": "Api Fictional"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["complainant_name"] == "Api Fictional" and data["status"] == "recorded"
    refused = client.post(
        f"/api/oversight/complaints/{data['id']}/actions",
        json.dumps({"action": "close"}),
        content_type="application/json",
    )
    assert refused.status_code == 422 and "cannot move" in refused.json()["title"]


def test_api_refuses_a_percentage_over_65():
    user = officer()
    case = services.create_forfeiture(
        user,
        officer_reference="PC 7",
        offence="Fictional",
        ground="connected_with_service",
        conviction_on=date(2024, 1, 1),
    )
    services.forfeiture_step(user, case.pk, to="psa_decision", on=date(2024, 2, 1))
    services.forfeiture_step(user, case.pk, to="ho_certificate", on=date(2024, 3, 1))
    response = api(user).post(
        f"/api/oversight/forfeitures/{case.pk}/steps",
        json.dumps({"to": "forfeiture_decision", "on": "2024-04-01", "percentage": "70"}),
        content_type="application/json",
    )
    assert response.status_code == 422 and "65" in response.json()["title"]
    assert PensionForfeiture.objects.get(pk=case.pk).percentage is None


def test_api_statistics_are_suppressed():
    user = officer()
    complaint(user)
    data = api(user).get("/api/oversight/statistics/outcomes").json()
    assert data["threshold"] == 5 and data["suppressed"] > 0
    assert data["totals"]["Total"] == "[c]"


def test_complaint_list_csv_is_a_disclosure_without_personal_data():
    user = officer()
    complaint(user)
    response = web(user).get("/oversight/complaints/export.csv")
    assert b"Fictional-Complainant" not in response.content and b"CMP-2025-0001" in response.content
    assert LedgerEntry.objects.filter(action=Action.DISCLOSURE, object_id="export").exists()


def test_web_import_dry_run_reports_bad_rows():
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = b"received_on,category,schedule3,complainant_name\n2025-13-01,other,yes,A Fictional\n"
    response = web().post(
        "/oversight/import/",
        {"kind": "complaints", "dry_run": "no", "file": SimpleUploadedFile("c.csv", text)},
    )
    body = response.content.decode()
    assert "Nothing imported" in body and "not a real date" in body
    assert not Complaint.objects.exists()


def test_an_extension_without_a_reason_joins_the_first_error_summary():
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    response = web(user).post(
        f"/oversight/complaints/{item.pk}/review/",
        {"received_on": "", "forwarded_days": "0", "extension_days": "7"},
    )
    html = response.content.decode()
    assert '<a href="#id_received_on">' in html  # the other mistake, in the same summary
    assert (
        '<a href="#id_extension_reason">An extension needs a reason (special circumstances)</a>'
        in html
    )
    assert "<title>Error: " in html


def test_the_hearing_list_names_the_panel_model_not_its_code():
    from tests.oversight.helpers import hearing

    user = officer()
    hearing(user, date(2024, 6, 1))
    html = web(user).get("/oversight/hearings/").content.decode()
    assert "Chief officer chair model" in html and "chief_officer_2024" not in html


def test_marking_handled_is_confirmed_on_its_own_page_first():
    user = officer()
    item = complaint(user)
    client = web(user)
    url = f"/oversight/complaints/{item.pk}/action/"
    status = item.status
    asked = client.post(url, {"action": "handled", "on": "2025-03-01"})
    html = asked.content.decode()
    assert asked.status_code == 200 and f"Mark as handled: {item.reference}?" in html
    assert 'name="confirmed" value="yes"' in html and "Yes, mark as handled" in html
    assert "1 March 2025" in html and 'name="on" value="2025-03-01"' in html
    item.refresh_from_db()
    assert item.status == status  # nothing changed yet
    done = client.post(url, {"action": "handled", "on": "2025-03-01", "confirmed": "yes"})
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == "handled"


def test_a_routine_step_needs_no_confirmation():
    user = officer()
    item = complaint(user)
    response = web(user).post(f"/oversight/complaints/{item.pk}/action/", {"action": "log"})
    assert response.status_code == 302


def test_the_dated_actions_use_the_govuk_date_input_with_plain_labels():
    user = officer()
    item = complaint(user)
    client = web(user)
    html = client.get(f"/oversight/complaints/{item.pk}/").content.decode()
    assert 'type="date"' not in html and "Date handled" in html
    assert 'name="on_day"' in html and "iopc)" not in html
    url = f"/oversight/complaints/{item.pk}/action/"
    typed = {"action": "handled", "on_day": "1", "on_month": "3", "on_year": "2025"}
    asked = client.post(url, typed).content.decode()
    assert "1 March 2025" in asked and 'name="on" value="2025-03-01"' in asked
    status = item.status
    refused = client.post(url, {**typed, "on_day": "31", "on_month": "2"})
    assert refused.status_code == 302
    assert "real date" in client.get(refused["Location"]).content.decode()
    item.refresh_from_db()
    assert item.status == status

"""A complaint received before the first version of its statutory rules is refused before
anything is stored; a record already holding such a date never breaks a list page
(issue 18 item 9)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from haven.accounts import services as account_services
from haven.oversight.models import Complaint
from tests.factories import force_sign_in
from tests.oversight.helpers import complaint, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

BEFORE_THE_RULES = date(2019, 12, 31)  # PCMR 2020 commenced 1 Feb 2020


def api(user) -> Client:  # type: ignore[no-untyped-def]
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_api_refuses_a_complaint_received_before_every_rule_version_and_stores_nothing():
    response = api(officer()).post(
        "/api/oversight/complaints",
        {
            "received_on": BEFORE_THE_RULES.isoformat(),
            "category": "individual_behaviours",
            "complainant_name": "Ivor Fictional-Complainant",
        },
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "received_on" in response.json()["title"]
    assert not Complaint.objects.exists()


def test_service_refusal_names_the_date_field():
    with pytest.raises(ValidationError) as refused:
        complaint(officer(), received_on=BEFORE_THE_RULES)
    assert "received_on" in refused.value.message_dict
    assert not Complaint.objects.exists()


def test_web_form_refuses_a_date_before_the_rules_with_a_field_error():
    client = force_sign_in(Client(), officer())
    response = client.post(
        "/oversight/complaints/new/",
        {
            "received_on": BEFORE_THE_RULES.isoformat(),
            "category": "individual_behaviours",
            "complainant_name": "Ivor Fictional-Complainant",
            "schedule3": "yes",
        },
    )
    assert response.status_code == 200
    assert "govuk-error-summary" in response.content.decode()
    assert not Complaint.objects.exists()


def test_list_pages_survive_a_stored_record_outside_every_rule_version():
    """A row written before this check (or by hand) shows without deadlines instead of
    failing the page for everyone."""
    user = officer()
    item = complaint(user)
    Complaint.objects.filter(pk=item.pk).update(received_on=BEFORE_THE_RULES)
    web = force_sign_in(Client(), user)
    assert web.get("/oversight/complaints/").status_code == 200
    assert web.get("/oversight/complaints/", {"overdue": "yes"}).status_code == 200
    assert web.get(f"/oversight/complaints/{item.pk}/").status_code == 200
    assert web.get("/").status_code == 200
    client = api(user)
    assert client.get("/api/oversight/complaints").status_code == 200
    assert client.get("/api/oversight/complaints", {"overdue": "true"}).status_code == 200
    assert client.get(f"/api/oversight/complaints/{item.pk}").status_code == 200

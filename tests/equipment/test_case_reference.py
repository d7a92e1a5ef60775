"""A deployment names its protection case by the case's reference, as people type and read it
(issue 20 item 5), in the web form and the API; an unknown reference is a field error."""

from __future__ import annotations

import pytest
from django.test import Client

from haven.accounts.roles import Role
from haven.equipment.models import Deployment
from tests.equipment.helpers import make_asset, make_deployment, supervisor
from tests.equipment.test_api_and_views import api_client, call
from tests.factories import UserFactory, force_sign_in, make_case

pytestmark = pytest.mark.django_db

PLAN = {
    "title": "Fit alarm",
    "objective": "Install a panic alarm",
    "starts_at": "2030-01-01T09:00",
    "ends_at": "2030-01-02T09:00",
    "overnight_stays": "0",
    "classification": "1",
}


@pytest.fixture
def case():
    return make_case(UserFactory(roles=[Role.PROTECTION_OFFICER]))


def test_the_plan_form_links_a_case_by_reference_and_shows_it(case):
    boss = supervisor()
    client = force_sign_in(Client(), boss)
    response = client.post(
        "/operations/deployments/new/", {**PLAN, "case_id": case.reference.lower()}
    )
    deployment = Deployment.objects.get()
    assert response.status_code == 302 and deployment.case_id == case.pk
    page = client.get(f"/operations/deployments/{deployment.pk}/").content.decode()
    assert case.reference in page and str(case.pk) not in page


def test_an_unknown_reference_is_a_field_error_and_saves_nothing(case):
    client = force_sign_in(Client(), supervisor())
    response = client.post("/operations/deployments/new/", {**PLAN, "case_id": "HVN-2026-99999"})
    body = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in body
    assert "Enter a reference that exists" in body and not Deployment.objects.exists()


def test_the_api_takes_references_for_a_case_and_a_deployment(case):
    boss = supervisor()
    plan = {"title": "x", "objective": "y", "starts_at": "2030-01-01T09:00:00Z"}
    plan["ends_at"] = "2030-01-02T09:00:00Z"
    response, body = call(
        api_client(boss), "POST", "/api/equipment/deployments", {**plan, "case_id": case.reference}
    )
    assert response.status_code == 201 and Deployment.objects.get().case_id == case.pk
    response, body = call(
        api_client(boss), "POST", "/api/equipment/deployments", {**plan, "case_id": "HVN-1-2"}
    )
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert Deployment.objects.count() == 1
    asset = make_asset(boss)
    deployment = make_deployment(boss)
    response, body = call(
        api_client(boss),
        "POST",
        f"/api/equipment/assets/{asset.pk}/custody",
        {
            "kind": "issued",
            "signature": boss.get_full_name(),
            "deployment_id": "DEP-2026-99999",
        },
    )
    assert response.status_code == 422 and "deployment reference" in body["title"]
    assert asset.custody.count() == 1 and deployment.reference.startswith("DEP-")

"""The same done-when flow through the API, plus the web forms' error handling and exports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from haven.accounts import services as account_services
from haven.audit.models import Action, LedgerEntry
from haven.equipment.models import Asset, Deployment
from tests.equipment.helpers import make_asset, make_deployment, supervisor, technician
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db


def api_client(user) -> Client:
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management")


def call(client: Client, method: str, path: str, body: dict | None = None):
    response = client.generic(method, path, json.dumps(body or {}), content_type="application/json")
    return response, (
        response.json()
        if response["Content-Type"].startswith("application/") and response.content
        else None
    )


def test_done_when_flow_through_the_api():
    boss, tech = (
        supervisor(first_name="Sam", last_name="Boss"),
        technician(first_name="Tess", last_name="Tech"),
    )
    sup, tec = api_client(boss), api_client(tech)
    response, asset = call(
        sup,
        "POST",
        "/api/equipment/assets",
        {
            "asset_type": "vehicle-tracker",
            "make": "Fictitrack",
            "model_name": "FT-1",
            "serial": "API-1",
            "device_id": "dev-api-1",
            "sim_details": "ICCID API",
        },
    )
    assert response.status_code == 201 and asset["sim_details"] == "ICCID API"
    start = timezone.now() - timedelta(hours=1)
    response, deployment = call(
        sup,
        "POST",
        "/api/equipment/deployments",
        {
            "title": "API plan",
            "objective": "Track",
            "install_address": "5 Api Row",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=13)).isoformat(),
        },
    )
    assert response.status_code == 201
    path = f"/api/equipment/deployments/{deployment['id']}"
    assert call(sup, "POST", f"{path}/team", {"username": tech.username})[0].status_code == 201
    assert call(sup, "POST", f"{path}/kit", {"asset_id": asset["id"]})[0].status_code == 201
    response, seen = call(tec, "GET", path)
    assert seen["install_address"] == "5 Api Row" and seen["linked_to_case"] is False
    custody = f"/api/equipment/assets/{asset['id']}/custody"
    for kind, extra in (
        ("issued", {}),
        ("deployed", {"deployment_id": deployment["id"]}),
        ("recovered", {"deployment_id": deployment["id"]}),
        ("returned", {}),
    ):
        response, _ = call(tec, "POST", custody, {"kind": kind, "signature": "Tess Tech", **extra})
        assert response.status_code == 201, response.content
    _, chain = call(sup, "GET", custody)
    assert [e["kind"] for e in chain] == ["received", "issued", "deployed", "recovered", "returned"]
    response, _ = call(sup, "POST", f"{path}/status", {"status": "completed", "outcome": "Done"})
    assert response.status_code == 200
    _, flags = call(sup, "GET", "/api/welfare")
    mine = next(p for p in flags if p["username"] == tech.username)
    assert "deployment_run" in [f["code"] for f in mine["flags"]]
    _, found = call(tec, "GET", "/api/equipment/assets?device_id=dev-api-1")
    assert found["count"] == 1 and found["results"][0]["serial"] == "API-1"


def test_api_bad_input_is_4xx_and_changes_nothing():
    boss, tech = supervisor(), technician()
    sup = api_client(boss)
    asset = make_asset(boss)
    first = make_deployment(boss)
    second = make_deployment(boss, start=first.starts_at)
    call(sup, "POST", f"/api/equipment/deployments/{first.pk}/kit", {"asset_id": str(asset.pk)})
    response, body = call(
        sup, "POST", f"/api/equipment/deployments/{second.pk}/kit", {"asset_id": str(asset.pk)}
    )
    assert response.status_code == 422 and "already assigned" in body["title"]
    assert response["Content-Type"] == "application/problem+json"
    response, _ = call(
        sup,
        "POST",
        "/api/equipment/deployments",
        {
            "title": "x",
            "objective": "y",
            "starts_at": "2030-01-02T09:00:00Z",
            "ends_at": "2030-01-01T09:00:00Z",
        },
    )
    assert response.status_code == 422 and Deployment.objects.count() == 2
    response, _ = call(
        api_client(tech),
        "POST",
        f"/api/equipment/assets/{asset.pk}/custody",
        {
            "kind": "handover",
            "from_username": boss.username,
            "signature": tech.get_full_name(),
            "location": "x",
        },
    )
    assert response.status_code == 422 and asset.custody.count() == 1


def test_register_form_shows_an_error_summary_and_saves_nothing():
    boss = supervisor()
    make_asset(boss, serial="TAKEN-1")
    client = force_sign_in(Client(), boss)
    response = client.post(
        "/operations/assets/new/",
        {
            "asset_type": "1",
            "make": "M",
            "model_name": "X",
            "serial": "TAKEN-1",
            "state": "in_stock",
        },
    )
    assert response.status_code == 200
    assert b"govuk-error-summary" in response.content and b"already registered" in response.content
    assert Asset.objects.filter(serial="TAKEN-1").count() == 1


def test_custody_form_refuses_a_wrong_signature_with_an_error_summary():
    boss, tech = supervisor(), technician()
    asset = make_asset(boss)
    client = force_sign_in(Client(), tech)
    response = client.post(
        f"/operations/assets/{asset.pk}/",
        {
            "action": "custody",
            "custody-kind": "issued",
            "custody-signature": "Nobody",
            "custody-confirm": "on",
        },
    )
    assert response.status_code == 400 and b"Sign with your full name" in response.content
    assert asset.custody.count() == 1


def test_custody_exports_are_disclosures_and_csv_escapes_formulas():
    boss = supervisor()
    asset = make_asset(boss)
    client = force_sign_in(Client(), boss)
    csv_response = client.get(f"/operations/assets/{asset.pk}/custody.csv")
    assert csv_response.status_code == 200
    assert "Received into store" in csv_response.content.decode()
    pdf = client.get(f"/operations/assets/{asset.pk}/custody.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert LedgerEntry.objects.filter(action=Action.DISCLOSURE, object_type="asset").count() == 2


def test_deployment_pages_hide_the_case_and_show_the_address_to_the_team_only():
    boss, tech, other = supervisor(), technician(), technician()
    deployment = make_deployment(
        boss, install_address="8 Secret Close", case_id="3f2b1c4e-1111-4222-8333-444455556666"
    )
    from haven.equipment import services
    from haven.equipment.models import TeamPlace

    services.add_team_member(boss, deployment.pk, tech, TeamPlace.TECHNICIAN)
    page = force_sign_in(Client(), tech).get(f"/operations/deployments/{deployment.pk}/")
    assert b"8 Secret Close" in page.content and b"3f2b1c4e" not in page.content
    assert (
        force_sign_in(Client(), other).get(f"/operations/deployments/{deployment.pk}/").status_code
        == 404
    )
    plan = force_sign_in(Client(), tech).get(f"/operations/deployments/{deployment.pk}/plan.pdf")
    assert plan.content.startswith(b"%PDF")
    log = force_sign_in(Client(), boss).get("/operations/deployments/log.csv")
    assert (
        deployment.reference in log.content.decode()
        and "8 Secret Close" not in log.content.decode()
    )

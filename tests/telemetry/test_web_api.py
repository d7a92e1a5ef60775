"""Alerts page, acknowledgement, device report and API, with each access rule both ways."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from haven.accounts.roles import Role
from haven.audit.models import LedgerEntry
from haven.telemetry import services
from haven.telemetry.models import AlertStatus
from tests.factories import UserFactory
from tests.factories import token_client as api
from tests.factories import web_client as web

from .helpers import make_device, make_rota, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_call():
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, supervisor = make_rota(officer)
    device = make_device(rota_name=rota_name, protects_person=True, name="Panic Alpha")
    [alert] = services.ingest(
        message(device, lat=51.512345, lon=-0.1, accuracy=6, alarms=("sos",))
    ).alerts
    bystander = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    return {
        "officer": officer,
        "supervisor": supervisor,
        "device": device,
        "alert": alert,
        "bystander": bystander,
    }


def test_alerts_page_polls_with_htmx_and_has_no_inline_script(on_call):
    page = web(on_call["bystander"]).get("/operations/alerts/")
    body = page.content.decode()
    assert page.status_code == 200
    assert (
        'hx-get="/operations/alerts/live/?status=open' in body and 'hx-trigger="every 5s"' in body
    )
    assert "Alarm SOS – Panic Alpha" in body
    assert "<script>" not in body and "onclick" not in body
    assert 'data-testid="acknowledge"' not in body  # not routed to the bystander
    live = web(on_call["officer"]).get("/operations/alerts/live/")
    assert live.status_code == 200 and 'data-testid="acknowledge"' in live.content.decode()


def test_alerts_page_is_refused_outside_operations(on_call):
    outsider = UserFactory(roles=[Role.PROTECTION_MANAGER])
    assert web(outsider).get("/operations/alerts/").status_code == 404
    assert web(outsider).get(f"/operations/alerts/{on_call['alert'].pk}/").status_code == 404


def test_recipient_acknowledges_in_the_browser_bystander_cannot(on_call):
    url = f"/operations/alerts/{on_call['alert'].pk}/acknowledge/"
    assert web(on_call["bystander"]).post(url).status_code == 404
    response = web(on_call["officer"]).post(url, {"note": "going"})
    assert response.status_code == 302
    on_call["alert"].refresh_from_db()
    assert on_call["alert"].status == AlertStatus.ACKNOWLEDGED
    again = web(on_call["supervisor"]).post(url, follow=True)
    assert "already acknowledged" in again.content.decode()
    acked = web(on_call["officer"]).get("/operations/alerts/?status=acknowledged")
    assert "Acknowledged by" in acked.content.decode()


def test_coordinates_only_for_recipients_and_supervisors_and_logged(on_call):
    url = f"/operations/alerts/{on_call['alert'].pk}/"
    assert "51.5123" not in web(on_call["bystander"]).get(url).content.decode()
    before = LedgerEntry.objects.filter(action="consultation").count()
    assert "51.5123" in web(on_call["supervisor"]).get(url).content.decode()
    assert "51.5123" in web(on_call["officer"]).get(url).content.decode()
    assert LedgerEntry.objects.filter(action="consultation").count() == before + 2


def test_device_report_rules_and_trips(on_call):
    device = on_call["device"]
    start = timezone.now() - dt.timedelta(hours=2)
    track = [(0, 0.0)] * 5 + [(i, i * 0.002) for i in range(1, 20)] + [(20, 0.04)] * 5
    for number, (_, offset) in enumerate(track):
        services.ingest(
            message(
                device,
                fix_time=start + dt.timedelta(minutes=number),
                lat=51.5 + offset,
                lon=-0.1,
                accuracy=5,
            )
        )
    url = f"/operations/alerts/devices/{device.pk}/report/"
    assert web(on_call["bystander"]).get(url).status_code == 404  # protects a person
    response = web(on_call["supervisor"]).get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="trips"' in body and 'data-testid="stops"' in body
    assert LedgerEntry.objects.filter(object_type="telemetry_device", action="consultation")
    plain = make_device(name="Van")
    assert (
        web(on_call["bystander"]).get(f"/operations/alerts/devices/{plain.pk}/report/").status_code
        == 200
    )
    devices = web(on_call["bystander"]).get("/operations/alerts/devices/").content.decode()
    assert "Panic Alpha" in devices and "Protects a person" in devices


def test_api_list_read_and_acknowledge(on_call):
    alert_id = on_call["alert"].pk
    listing = api(on_call["bystander"]).get("/api/telemetry/alerts").json()
    assert listing["count"] == 1 and listing["items"][0]["late"] is False
    assert api(on_call["bystander"]).get(f"/api/telemetry/alerts/{alert_id}").status_code == 200
    url = f"/api/telemetry/alerts/{alert_id}/acknowledge"
    body = json.dumps({"note": "api"})
    assert (
        api(on_call["bystander"]).post(url, body, content_type="application/json").status_code
        == 404
    )
    done = api(on_call["officer"]).post(url, body, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    again = api(on_call["supervisor"]).post(url, body, content_type="application/json")
    assert again.status_code == 409
    assert again["Content-Type"].startswith("application/problem+json")
    bad = api(on_call["officer"]).get("/api/telemetry/alerts?status=bogus")
    assert bad.status_code == 422
    outsider = UserFactory(roles=[Role.OVERSIGHT_OFFICER])
    assert api(outsider).get("/api/telemetry/alerts").status_code == 404
    assert api(outsider).get("/api/telemetry/devices").status_code == 404
    assert api(on_call["officer"]).get("/api/telemetry/devices").json()[0]["device_id"]


def test_device_report_days_are_govuk_date_inputs(on_call):
    url = f"/operations/alerts/devices/{on_call['device'].pk}/report/"
    client = web(on_call["supervisor"])
    body = client.get(url).content.decode()
    assert 'name="from_day"' in body and 'name="to_year"' in body and 'type="date"' not in body
    chosen = {"from_day": "2", "from_month": "1", "from_year": "2026"}
    body = client.get(url, {**chosen, "to_day": "3", "to_month": "1", "to_year": "2026"})
    assert 'name="from_day" type="text" inputmode="numeric" value="2"' in body.content.decode()
    refused = client.get(url, {"from_day": "31", "from_month": "2", "from_year": "2026"})
    html = refused.content.decode()
    assert refused.status_code == 200 and "govuk-error-summary" in html
    assert "From must be a real date" in html
    assert client.get(url, {"from": "9999-12-31"}).status_code == 200  # never a 500

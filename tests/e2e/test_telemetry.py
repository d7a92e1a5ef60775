"""An SOS sent an hour late still raises an alert that the on-call person acknowledges live."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.accounts.roles import Role
from haven.telemetry import services
from haven.telemetry.models import Alert, AlertStatus
from tests.factories import PASSWORD, UserFactory, current_code
from tests.telemetry.helpers import make_device, make_rota

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
SCREENSHOTS.mkdir(exist_ok=True)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_late_sos_reaches_the_on_call_officer_who_acknowledges_it(page):
    services.reset_fences()
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER], first_name="Oncall")
    rota_name, _ = make_rota(officer, name="E2E tracking on-call")
    make_device(device_id="panic-e2e", name="Panic button E2E", rota_name=rota_name)
    console_errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))

    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(officer.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(officer))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    page.goto("/operations/alerts/")
    expect(page.get_by_test_id("no-alerts")).to_be_visible()

    # Traccar Client's form POST, queued on the phone for an hour and sent now.
    an_hour_ago = int(time.time()) - 3600
    reply = page.request.post(
        "/api/telemetry/osmand",
        data=f"id=panic-e2e&lat=51.5&lon=-0.12&timestamp={an_hour_ago}&accuracy=8&alarm=sos",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 200 and reply.body() == b""

    # The open page picks the alert up by HTMX polling, without a reload.
    row = page.get_by_test_id("alert-row").filter(has_text="Alarm SOS – Panic button E2E")
    row.wait_for(timeout=15_000)
    expect(row.get_by_text("Late", exact=True)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "telemetry-alert.png"), full_page=True)
    row.get_by_test_id("acknowledge").click()
    page.wait_for_url("**/operations/alerts/")
    expect(page.get_by_text("Alert acknowledged")).to_be_visible()

    alert = Alert.objects.get(device__device_id="panic-e2e")
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == officer
    assert alert.late and alert.routed_to == officer
    assert not [e for e in console_errors if "Content Security Policy" in e]

"""The issue's done-criterion: a technician registers a tracker, makes a circle zone with the
plain form, a fix is posted to the OsmAnd receiver, and the position shows on the map page; all
reached by clicking from Home."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.accounts.roles import Role
from haven.telemetry import services
from haven.telemetry.models import Geofence, TelemetryDevice
from tests.factories import PASSWORD, UserFactory, current_code

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
SCREENSHOTS.mkdir(exist_ok=True)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def test_technician_registers_a_tracker_makes_a_zone_and_sees_it_on_the_map(page):
    services.reset_fences()
    technician = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, technician)

    page.get_by_role("link", name="Operations").first.click()
    page.get_by_role("link", name="Alerts and trackers").click()
    page.get_by_role("link", name="Trackers and alarms").click()
    page.get_by_role("link", name="Register a tracker or alarm").click()
    page.get_by_label("Device identifier").fill("e2e-van")
    page.get_by_label("Name").fill("Van E2E")
    page.get_by_label("Kind of device").select_option("vehicle_tracker")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Van E2E registered")).to_be_visible()

    page.get_by_role("link", name="Zones").click()
    page.get_by_role("link", name="Create a zone").click()
    expect(page.locator("#zone-map .leaflet-pm-toolbar").first).to_be_visible()  # drawing tools
    page.get_by_label("Name").fill("Depot E2E")
    page.get_by_label("Safe zone (alert on exit)").check()
    page.get_by_label("Circle: a centre and a radius").check()
    page.get_by_label("Centre latitude (circle)").fill("51.5")
    page.get_by_label("Centre longitude (circle)").fill("-0.12")
    page.get_by_label("Radius in metres (circle)").fill("200")
    page.get_by_label("Applies to").select_option(label="Device: Van E2E (e2e-van)")
    page.get_by_role("button", name="Create zone").click()
    expect(page.get_by_text("Zone Depot E2E created")).to_be_visible()
    fence = Geofence.objects.get(name="Depot E2E")
    assert fence.device == TelemetryDevice.objects.get(device_id="e2e-van")

    reply = page.request.post(
        "/api/telemetry/osmand",
        data="id=e2e-van&lat=51.5001&lon=-0.1201&accuracy=6&speed=0",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 200

    page.get_by_role("link", name="Map").first.click()
    expect(page.get_by_test_id("no-tiles")).to_be_visible()
    rows = page.get_by_test_id("position-table")
    expect(rows.get_by_text("Van E2E (e2e-van)")).to_be_visible(timeout=15_000)
    expect(rows.get_by_text("51.50010, -0.12010")).to_be_visible()
    expect(page.get_by_test_id("map-summary")).to_contain_text("1 device on the map")
    expect(page.locator("#live-map path.leaflet-interactive").first).to_be_attached()
    page.screenshot(path=str(SCREENSHOTS / "telemetry-map.png"), full_page=True)
    assert errors == []

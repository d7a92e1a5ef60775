"""Devices and zones set up in the app (web and API), and the map's reads: only technical roles
manage; zones and positions of a protected person's device only for those with reach, ledgered."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from haven.accounts.roles import Role
from haven.audit.models import LedgerEntry
from haven.telemetry import services
from haven.telemetry.models import Geofence, TelemetryDevice
from haven.web.middleware import tile_origin
from tests.equipment.helpers import make_asset, make_deployment, supervisor, technician
from tests.factories import UserFactory
from tests.factories import token_client as api
from tests.factories import web_client as web

from .helpers import make_device, message

pytestmark = pytest.mark.django_db


def ledgered(object_type: str, object_id: object, action: str) -> int:
    return LedgerEntry.objects.filter(
        object_type=object_type, object_id=str(object_id), action=action
    ).count()


CIRCLE_FORM = {
    "name": "Home",
    "kind": "safe",
    "shape": "circle",
    "lat": "51.5",
    "lon": "-0.12",
    "radius_m": "150",
    "dwell_s": "30",
}


# ------------------------------------------------------------------------------ devices


def test_a_technician_registers_a_tracker_in_the_web_form_and_it_is_ledgered():
    officer = technician()
    page = web(officer).get("/operations/alerts/devices/")
    assert 'href="/operations/alerts/devices/new/"' in page.content.decode()
    answer = web(officer).post(
        "/operations/alerts/devices/new/",
        {"device_id": "van-7", "name": "Van 7", "kind": "vehicle_tracker", "speed_unit": "knots"},
    )
    assert answer.status_code == 302
    device = TelemetryDevice.objects.get(device_id="van-7")
    assert ledgered("telemetry_device", device.pk, "collection") == 1


def test_the_form_shows_field_errors_instead_of_failing():
    make_device(device_id="taken")
    answer = web(technician()).post(
        "/operations/alerts/devices/new/",
        {"device_id": "taken", "name": "Again", "kind": "vehicle_tracker", "speed_unit": "knots"},
    )
    assert answer.status_code == 200
    assert "already registered" in answer.content.decode()


@pytest.mark.parametrize("role", [Role.PROTECTION_OFFICER, Role.AUDITOR, Role.ADMINISTRATOR])
def test_other_roles_cannot_register_devices_or_zones(role):
    outsider = UserFactory(roles=[role])
    assert web(outsider).get("/operations/alerts/devices/new/").status_code in (403, 404)
    posted = web(outsider).post("/operations/alerts/zones/new/", CIRCLE_FORM)
    assert posted.status_code in (403, 404)
    refused = api(outsider).post(
        "/api/telemetry/devices",
        {"device_id": "x-1", "name": "X", "kind": "phone"},
        content_type="application/json",
    )
    assert refused.status_code in (401, 403, 404)
    assert not TelemetryDevice.objects.filter(device_id="x-1").exists()
    assert not Geofence.objects.exists()


def test_a_device_fitted_on_a_deployment_is_tied_to_the_case_it_protects():
    boss = supervisor()
    case_id = uuid.uuid4()
    deployment = make_deployment(
        boss, start=timezone.now() - dt.timedelta(hours=1), case_id=case_id
    )
    asset = make_asset(boss, type_code="panic-button", device_id="alarm-42")
    device = TelemetryDevice.objects.get(device_id="alarm-42")  # the register made it a tracker
    assert device.asset_id == asset.pk
    changed = api(boss).put(
        f"/api/telemetry/devices/{device.pk}",
        {
            "name": "Alarm 42",
            "kind": "panic_alarm",
            "protects_person": True,
            "asset_id": str(asset.pk),
            "deployment_id": str(deployment.pk),
            "version": device.version,
        },
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["deployment_id"] == str(deployment.pk) and body["case_id"] == str(case_id)
    assert ledgered("telemetry_device", device.pk, "alteration") == 1
    stale = api(boss).put(
        f"/api/telemetry/devices/{device.pk}",
        {"name": "Alarm 42b", "kind": "panic_alarm", "version": device.version},
        content_type="application/json",
    )
    assert stale.status_code == 409


def test_a_retired_device_is_refused_by_its_receiver():
    officer = technician()
    device = make_device(device_id="old-1")
    answer = web(officer).post(
        f"/operations/alerts/devices/{device.pk}/retire/", {"version": device.version}
    )
    assert answer.status_code == 302
    device.refresh_from_db()
    assert not device.active and device.retired_at is not None
    assert ledgered("telemetry_device", device.pk, "alteration") == 1
    osmand = Client().get("/api/telemetry/osmand", {"id": "old-1", "lat": "51.5", "lon": "-0.1"})
    assert osmand.status_code == 400
    assert web(officer).get(f"/operations/alerts/devices/{device.pk}/edit/").status_code == 404


# ------------------------------------------------------------------------------ zones


def test_a_circle_zone_from_the_plain_form_is_used_at_once():
    officer = technician()
    device = make_device()
    answer = web(officer).post(
        "/operations/alerts/zones/new/",
        {**CIRCLE_FORM, "attached_to": f"device:{device.pk}", "dwell_s": "0"},
    )
    assert answer.status_code == 302, answer.content
    fence = Geofence.objects.get()
    assert fence.area == {"circle": {"lat": 51.5, "lon": -0.12, "radius_m": 150.0}}
    assert fence.device == device
    assert ledgered("telemetry_geofence", fence.pk, "collection") == 1
    result = services.ingest(message(device, lat=51.5, lon=-0.12, accuracy=5))
    assert [e.type for e in result.events] == ["geofence_enter"]


def test_a_polygon_zone_and_bad_corners():
    officer = technician()
    bad = web(officer).post(
        "/operations/alerts/zones/new/",
        {**CIRCLE_FORM, "shape": "polygon", "points": "51.5, -0.1\nnot a corner"},
    )
    assert bad.status_code == 200 and "Line 2: enter latitude, longitude" in bad.content.decode()
    missing = web(officer).post("/operations/alerts/zones/new/", {**CIRCLE_FORM, "radius_m": ""})
    assert missing.status_code == 200 and "govuk-error-summary" in missing.content.decode()
    good = web(officer).post(
        "/operations/alerts/zones/new/",
        {
            **CIRCLE_FORM,
            "kind": "exclusion",
            "shape": "polygon",
            "points": "51.50, -0.13\n51.50, -0.12\n51.51, -0.12\n51.51, -0.13",
        },
    )
    assert good.status_code == 302
    assert Geofence.objects.get().area["polygon"][2] == [51.51, -0.12]


def test_a_stale_retire_goes_back_to_the_edit_page_and_changes_nothing():
    officer = technician()
    device = make_device(device_id="stale-1")
    fence = services.create_geofence(
        officer, name="Yard", kind="safe", area=services.fence_area(lat=51.5, lon=-0.1, radius_m=50)
    )
    client = web(officer)
    answer = client.post(
        f"/operations/alerts/devices/{device.pk}/retire/", {"version": device.version + 1}
    )
    assert answer.status_code == 302
    assert answer["Location"] == f"/operations/alerts/devices/{device.pk}/edit/"
    zone = client.post(f"/operations/alerts/zones/{fence.pk}/retire/", {"version": 99})
    assert zone["Location"] == f"/operations/alerts/zones/{fence.pk}/"
    device.refresh_from_db()
    fence.refresh_from_db()
    assert device.retired_at is None and fence.active
    assert ledgered("telemetry_device", device.pk, "alteration") == 0
    done = client.post(f"/operations/alerts/zones/{fence.pk}/retire/", {"version": fence.version})
    assert done["Location"] == "/operations/alerts/zones/"
    fence.refresh_from_db()
    assert not fence.active


def test_editing_a_zone_moves_updated_at_and_a_stale_edit_is_refused():
    officer = technician()
    fence = services.create_geofence(
        officer,
        name="Depot",
        kind="safe",
        area=services.fence_area(lat=51.5, lon=-0.1, radius_m=100),
    )
    assert fence.dwell_s == 30  # the configured default
    before = fence.updated_at
    answer = web(officer).post(
        f"/operations/alerts/zones/{fence.pk}/",
        {**CIRCLE_FORM, "name": "Depot", "radius_m": "250", "version": fence.version},
    )
    assert answer.status_code == 302
    fence.refresh_from_db()
    assert fence.updated_at > before and fence.area["circle"]["radius_m"] == 250
    stale = web(officer).post(
        f"/operations/alerts/zones/{fence.pk}/", {**CIRCLE_FORM, "version": 1}
    )
    assert stale.status_code == 200 and "changed by someone else" in stale.content.decode()
    assert ledgered("telemetry_geofence", fence.pk, "alteration") == 1


def test_zones_by_api_circle_polygon_and_refusals():
    officer = technician()
    client = api(officer)
    polygon = client.post(
        "/api/telemetry/zones",
        {
            "name": "Yard",
            "kind": "exclusion",
            "polygon": [[51.5, -0.1], [51.5, -0.09], [51.51, -0.09]],
        },
        content_type="application/json",
    )
    assert polygon.status_code == 201, polygon.content
    both = client.post(
        "/api/telemetry/zones",
        {
            "name": "Bad",
            "kind": "safe",
            "circle": {"lat": 1, "lon": 1, "radius_m": 5},
            "polygon": [[1, 1], [1, 2], [2, 2]],
        },
        content_type="application/json",
    )
    line = client.post(
        "/api/telemetry/zones",
        {"name": "Line", "kind": "safe", "polygon": [[0, 0], [0, 1], [0, 2]]},
        content_type="application/json",
    )
    assert both.status_code == 422 and line.status_code == 422
    assert line["Content-Type"].startswith("application/problem+json")
    zone = polygon.json()
    retired = client.post(
        f"/api/telemetry/zones/{zone['id']}/retire",
        {"version": zone["version"]},
        content_type="application/json",
    )
    assert retired.status_code == 200
    assert client.get(f"/api/telemetry/zones/{zone['id']}").status_code == 404


def test_a_protected_persons_zone_is_hidden_from_an_officer_without_reach():
    boss, officer = supervisor(), technician()
    alarm = make_device(protects_person=True, kind="panic_alarm")
    fence = services.create_geofence(
        boss,
        name="Safe house",
        kind="safe",
        area=services.fence_area(lat=51.5, lon=-0.1, radius_m=100),
        device=alarm,
    )
    assert "Safe house" not in web(officer).get("/operations/alerts/zones/").content.decode()
    assert web(officer).get(f"/operations/alerts/zones/{fence.pk}/").status_code == 404
    assert api(officer).get(f"/api/telemetry/zones/{fence.pk}").status_code == 404
    assert api(boss).get(f"/api/telemetry/zones/{fence.pk}").status_code == 200
    assert ledgered("telemetry_geofence", fence.pk, "consultation") == 1


# ------------------------------------------------------------------------------ the map


def test_the_map_page_without_tiles_says_why_and_loads_no_inline_script():
    page = web(technician()).get("/operations/alerts/map/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "No map tiles are configured" in body
    assert 'aria-live="polite"' in body and "<script>" not in body
    assert "vendor/leaflet/leaflet.js" in body


def test_the_tile_server_is_the_only_outside_origin_the_csp_admits():
    assert tile_origin("") == ""
    assert tile_origin("https://tiles.force.example/{z}/{x}/{y}.png") == (
        " https://tiles.force.example"
    )
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == (
        " https://*.tile.example.org"
    )


def test_live_positions_show_only_devices_the_user_may_read_and_reads_are_ledgered():
    boss, officer = supervisor(), technician()
    van = make_device(name="Van", device_id="van-1")
    alarm = make_device(name="Alarm", device_id="alarm-1", protects_person=True)
    services.ingest(message(van, lat=51.5, lon=-0.1, accuracy=5))
    services.ingest(message(alarm, lat=51.6, lon=-0.2, accuracy=5))

    seen = web(officer).get("/operations/alerts/map/positions.json").json()
    assert [d["device_id"] for d in seen["devices"]] == ["van-1"]
    assert ledgered("telemetry_device", alarm.pk, "consultation") == 0

    everything = web(boss).get("/operations/alerts/map/positions.json").json()
    assert {d["device_id"] for d in everything["devices"]} == {"van-1", "alarm-1"}
    assert ledgered("telemetry_device", alarm.pk, "consultation") == 1
    by_api = api(officer).get("/api/telemetry/positions").json()
    assert [p["device_id"] for p in by_api] == ["van-1"]
    outsider = UserFactory(roles=[Role.PROTECTION_MANAGER])
    assert web(outsider).get("/operations/alerts/map/positions.json").status_code in (403, 404)


def test_live_map_reads_are_ledgered_once_per_reader_device_and_view_for_every_device(
    time_machine, settings
):
    """Every device's positions read on the map are a consultation (not only a protected
    person's, as device_report); the map polls every 10 s, so one entry per reader, device and
    view (at most the idle timeout), not one per poll."""
    settings.SESSION_IDLE_SECONDS = 15 * 60
    time_machine.move_to(timezone.now(), tick=False)
    boss, officer = supervisor(), technician()
    van = make_device(name="Van", device_id="van-2")
    alarm = make_device(name="Alarm", device_id="alarm-2", protects_person=True)
    services.ingest(message(van, lat=51.5, lon=-0.1, accuracy=5))
    services.ingest(message(alarm, lat=51.6, lon=-0.2, accuracy=5))
    url = "/operations/alerts/map/positions.json"
    for _ in range(3):  # three polls of one view
        web(officer).get(url)
        web(boss).get(url)
    assert ledgered("telemetry_device", van.pk, "consultation") == 2  # officer and boss once
    assert ledgered("telemetry_device", alarm.pk, "consultation") == 1  # the boss only
    officer_reads = LedgerEntry.objects.filter(actor=officer, object_type="telemetry_device")
    assert {e.object_id for e in officer_reads} == {str(van.pk)}  # never the alarm it cannot read

    time_machine.shift(dt.timedelta(minutes=16))  # a later view: a new entry each
    web(boss).get(url)
    assert ledgered("telemetry_device", van.pk, "consultation") == 3
    assert ledgered("telemetry_device", alarm.pk, "consultation") == 2


def test_route_replay_with_trips_for_readers_only():
    boss, officer = supervisor(), technician()
    alarm = make_device(protects_person=True, kind="panic_alarm")
    start = timezone.now() - dt.timedelta(minutes=30)
    for n in range(40):  # parked, then 20 fixes driving north at ~25 m/s
        moving = n >= 20
        services.ingest(
            message(
                alarm,
                fix_time=start + dt.timedelta(seconds=20 * n),
                lat=51.5 + (0.0045 * (n - 19) if moving else 0),
                lon=-0.1,
                speed_mps=25.0 if moving else 0.0,
                accuracy=5,
            )
        )
    url = f"/operations/alerts/devices/{alarm.pk}/route.json"
    assert web(officer).get(url).status_code == 404
    assert api(officer).get(f"/api/telemetry/devices/{alarm.pk}/route").status_code == 404
    route = web(boss).get(url).json()
    assert len(route["points"]) == 40
    assert len(route["trips"]) == 1 and len(route["stops"]) == 1
    assert ledgered("telemetry_device", alarm.pk, "consultation") == 1
    bad = web(boss).get(url, {"from": "2026-01-02T00:00", "to": "2026-01-01T00:00"})
    assert bad.status_code == 400
    assert json.loads(bad.content)["detail"]

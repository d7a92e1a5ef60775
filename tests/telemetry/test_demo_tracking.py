"""The demo's trackers work: zones around them, a recorded drive that replays as one trip, and
the receiver accepts a new fix from a demo tracker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from haven.accounts.models import User
from haven.demo.accounts import create_demo_accounts
from haven.demo.operations import create_demo_operations
from haven.telemetry import selectors
from haven.telemetry.demo import DEMO_DEPOT_ZONE, DEMO_HOME_ZONE
from haven.telemetry.models import Event, Geofence, Position, TelemetryDevice

pytestmark = pytest.mark.django_db


def test_demo_trackers_have_zones_a_replayable_drive_and_accept_fixes():
    create_demo_accounts()
    create_demo_operations()
    create_demo_operations()  # safe to run twice
    alarm = TelemetryDevice.objects.get(device_id="demo-panic-1")
    assert alarm.protects_person and alarm.deployment_id is not None
    home = Geofence.objects.get(name=DEMO_HOME_ZONE)
    assert home.device == alarm and home.dwell_s == 60
    assert "polygon" in Geofence.objects.get(name=DEMO_DEPOT_ZONE).area
    tracker = TelemetryDevice.objects.get(device_id="demo-tracker-1")
    boss = User.objects.get(username="supervisor")
    report = selectors.device_report(boss, tracker.pk, *_span(tracker))
    assert len(report.trips) == 1 and len(report.stops) == 2
    assert not Event.objects.filter(device=tracker, type__startswith="geofence").exists()
    before = Position.objects.filter(device__device_id="demo-tracker-2").count()
    answer = Client().post("/api/telemetry/osmand?id=demo-tracker-2&lat=52.96&lon=-1.48")
    assert answer.status_code == 200
    assert Position.objects.filter(device__device_id="demo-tracker-2").count() == before + 1


def _span(device: TelemetryDevice):  # type: ignore[no-untyped-def]
    rows = Position.objects.filter(device=device).order_by("fix_time")
    return rows.first().fix_time, rows.last().fix_time + dt.timedelta(seconds=1)

"""Never lose an alarm or a fix: a broken field does not take an alarm (or the fix) down with it,
a no-fix alarm shows where the device was last, every attribute sent is kept, and an invalid fix
never moves a device across a fence."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from haven.telemetry import services
from haven.telemetry.models import Alert, Event, Position

from .helpers import make_circle, make_device, message

pytestmark = pytest.mark.django_db
OSMAND = "/api/telemetry/osmand"
FORM = "application/x-www-form-urlencoded"


def stamp(seconds_ago: float = 0) -> int:
    return int(timezone.now().timestamp() - seconds_ago)


@pytest.mark.parametrize(
    ("broken", "fix_dropped"),
    [
        ("lat=51.5&lon=-0.1&timestamp={future}", True),  # 11 minutes ahead of the server
        ("lat=91&lon=-0.1&timestamp={recent}", True),
        ("lat=51.5&lon=-0.1&timestamp={recent}&batt=", False),
        ("lat=51.5&lon=-0.1&timestamp={recent}&speed=nan", False),
    ],
)
def test_sos_with_a_broken_field_still_alerts_and_is_answered_200(
    client: Client, broken, fix_dropped
):
    device = make_device(device_id="sos-broken", kind="panic_alarm")
    before = timezone.now()
    fields = broken.format(future=stamp(-660), recent=stamp(5))
    response = client.post(OSMAND, f"id=sos-broken&{fields}&alarm=sos", content_type=FORM)
    assert response.status_code == 200  # Traccar Client moves on to the next queued message
    alert = Alert.objects.get(device=device, event__key="sos")
    assert alert.severity == "critical"
    if fix_dropped:  # at server time, marked, and no position stored from the bad fix
        assert before <= alert.event.event_time <= timezone.now()
        assert alert.event.fix_invalid and "(invalid fix)" in alert.title
        assert not Position.objects.filter(device=device, lat__isnull=False).exists()
    else:  # only an optional field was bad: the fix is stored, the field kept aside
        stored = Position.objects.get(device=device, lat=51.5)
        assert stored.attributes["invalid"]
        assert not alert.event.fix_invalid


def test_an_invalid_fix_without_alarm_is_answered_200_counted_and_not_a_position(client: Client):
    device = make_device(device_id="bad-fix")
    response = client.get(f"{OSMAND}?id=bad-fix&lat=95&lon=0&timestamp={stamp(5)}")
    assert response.status_code == 200
    assert services.REJECTED["lat_out_of_range"] == 1
    kept = Position.objects.get(device=device)
    assert kept.point is None and kept.valid is False
    assert float(kept.attributes["invalid"]["lat"]) == 95


def test_a_no_fix_alarm_carries_the_last_known_position_and_its_age(client: Client):
    device = make_device(device_id="no-fix")
    now = stamp()
    assert (
        client.post(
            OSMAND, f"id=no-fix&lat=51.5&lon=-0.12&timestamp={now - 1}", content_type=FORM
        ).status_code
        == 200
    )
    assert (
        client.post(OSMAND, f"id=no-fix&timestamp={now}&alarm=sos", content_type=FORM).status_code
        == 200
    )
    event = Event.objects.get(device=device, key="sos")
    assert event.position is not None and event.position.point == (51.5, -0.12)
    assert event.position_age_s == pytest.approx(1.0)
    assert event.fix_invalid is False


def test_a_protected_persons_no_fix_alarm_finds_the_sealed_last_position():
    device = make_device(device_id="no-fix-sealed", protects_person=True)
    services.ingest(
        message(device, lat=51.5, lon=-0.12, fix_time=timezone.now() - dt.timedelta(seconds=30))
    )
    result = services.ingest(message(device, alarms=("sos",)))
    event = result.events[0]
    assert event.position is not None and event.position.point == (51.5, -0.12)
    assert 29 <= (event.position_age_s or 0) <= 31


def test_a_heartbeat_keeps_cell_wifi_ignition_charge_event_and_unknown_keys(client: Client):
    device = make_device(device_id="hb-attrs")
    query = (
        f"id=hb-attrs&timestamp={stamp(2)}&cell=234,15,1234,5678,-70"
        "&wifi=00-11-22-33-44-55,-80&ignition=true&charge=true&event=motionchange&rpm=900"
    )
    assert client.get(f"{OSMAND}?{query}").status_code == 200
    kept = Position.objects.get(device=device)
    assert kept.point is None
    assert kept.attributes == {
        "cells": ["234,15,1234,5678,-70"],
        "wifi": ["00:11:22:33:44:55,-80"],
        "ignition": True,
        "charge": True,
        "event": "motionchange",
        "rpm": 900.0,
    }
    # A resend of the same heartbeat is answered 200 and stored once.
    assert client.get(f"{OSMAND}?{query}").status_code == 200
    assert Position.objects.filter(device=device).count() == 1


def test_an_invalid_fix_never_moves_a_device_across_a_fence():
    device = make_device()
    make_circle(device, 51.5, -0.12, 200)
    start = timezone.now() - dt.timedelta(minutes=5)
    services.ingest(message(device, lat=51.5, lon=-0.12, accuracy=5, fix_time=start))
    assert device.geofences.get().pk.hex in {f.replace("-", "") for f in _inside(device)}
    far = services.ingest(
        message(
            device,
            lat=51.51,
            lon=-0.12,
            accuracy=5,
            valid=False,
            fix_time=start + dt.timedelta(seconds=30),
        )
    )
    assert far.position is not None and far.position.valid is False
    assert not far.alerts and not Alert.objects.filter(device=device).exists()
    assert _inside(device)  # still inside
    left = services.ingest(
        message(device, lat=51.51, lon=-0.12, accuracy=5, fix_time=start + dt.timedelta(seconds=60))
    )
    assert [a.title.startswith("Left safe zone") for a in left.alerts] == [True]


def _inside(device) -> list[str]:
    device.refresh_from_db()
    return list(device.inside_fences)

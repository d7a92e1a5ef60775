"""Ingest: idempotent storage, late and repeated alarms, geofences, routing, ack, escalation."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from haven.accounts.roles import Role
from haven.audit.models import LedgerEntry
from haven.telemetry import services
from haven.telemetry.geofence import M_PER_DEG_LAT
from haven.telemetry.models import (
    Alert,
    AlertStatus,
    DeviceStatus,
    Event,
    Position,
    TelemetryDevice,
    time_ordered_uuid,
)
from haven.telemetry.protocols import Rejected
from tests.factories import UserFactory

from .helpers import make_circle, make_device, make_rota, message

pytestmark = pytest.mark.django_db
HOME = (51.5, -0.12)


def north(metres: float) -> tuple[float, float]:
    return HOME[0] + metres / M_PER_DEG_LAT, HOME[1]


def test_position_is_stored_once_per_fix_time():
    device = make_device()
    fix = timezone.now() - dt.timedelta(seconds=5)
    first = services.ingest(message(device, fix_time=fix, lat=51.5, lon=-0.1))
    again = services.ingest(message(device, fix_time=fix, lat=51.5, lon=-0.1))
    assert first.position is not None and not first.duplicate
    assert again.duplicate and again.position is None
    assert Position.objects.filter(device=device).count() == 1


def test_position_ids_are_version_7_uuids_in_time_order():
    device = make_device()
    with time_machine.travel(dt.datetime(2026, 11, 26, 4, 0, tzinfo=dt.UTC), tick=False):
        stored = services.ingest(message(device, lat=51.5, lon=-0.1)).position
        later = time_ordered_uuid()
    assert stored is not None
    assert Position.objects.get().pk == stored.pk
    assert (stored.pk.version, stored.pk.variant) == (7, uuid.RFC_4122)
    milliseconds = int(dt.datetime(2026, 11, 26, 4, 0, tzinfo=dt.UTC).timestamp() * 1000)
    assert stored.pk.int >> 80 == milliseconds == later.int >> 80
    with time_machine.travel(dt.datetime(2026, 11, 26, 4, 0, 0, 1000, tzinfo=dt.UTC)):
        assert time_ordered_uuid() > later  # a millisecond later sorts after, whatever the rest
    assert len({time_ordered_uuid() for _ in range(1000)}) == 1000


def test_device_rows_leave_room_for_hot_updates_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL storage parameter")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE relname = %s", [TelemetryDevice._meta.db_table]
        )
        assert cursor.fetchone()[0] == ["fillfactor=50"]


def test_unknown_device_changes_nothing():
    with pytest.raises(Rejected) as refused:
        services.ingest(message(make_device(), device_id="nobody", lat=1, lon=1))
    assert refused.value.reason == "unknown_device"
    assert Position.objects.count() == 0


def test_protected_person_coordinates_are_encrypted_at_rest():
    device = make_device(protects_person=True)
    services.ingest(message(device, lat=51.512345, lon=-0.123456, accuracy=7))
    position = Position.objects.get(device=device)
    assert position.lat is None and position.lon is None
    assert position.point == (51.512345, -0.123456)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed FROM telemetry_position")
        (raw,) = cursor.fetchone()
    assert "51.512345" not in raw and raw.startswith("hv1.")


def test_sos_an_hour_late_still_alerts_flagged_late():
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, _ = make_rota(officer)
    device = make_device(rota_name=rota_name, kind="panic_alarm")
    services.ingest(message(device, lat=51.5, lon=-0.1))  # a newer fix arrived first
    late = timezone.now() - dt.timedelta(hours=1)
    result = services.ingest(message(device, fix_time=late, lat=51.5, lon=-0.1, alarms=("sos",)))
    assert result.late
    [alert] = result.alerts
    assert alert.severity == "critical" and alert.late
    assert "LATE" in alert.title
    assert alert.routed_to == officer
    assert LedgerEntry.objects.filter(object_type="telemetry_alert", object_id=str(alert.pk))


def test_repeated_sos_are_not_merged_but_a_resend_is_one_alert():
    device = make_device()
    now = timezone.now()
    for seconds in (30, 20, 10):
        services.ingest(
            message(device, fix_time=now - dt.timedelta(seconds=seconds), alarms=("sos",))
        )
    services.ingest(message(device, fix_time=now - dt.timedelta(seconds=10), alarms=("sos",)))
    assert Alert.objects.filter(device=device).count() == 3


def test_alarm_without_a_fix_alerts_and_on_duplicate_position_too():
    device = make_device()
    fix = timezone.now()
    services.ingest(message(device, fix_time=fix, lat=1, lon=1))
    result = services.ingest(message(device, fix_time=fix, lat=1, lon=1, alarms=("panic",)))
    assert result.duplicate and len(result.alerts) == 1
    result = services.ingest(message(device, alarms=("tamper",)))
    assert len(result.alerts) == 1


def test_no_rota_routes_to_technical_supervisors():
    boss = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    device = make_device()
    [alert] = services.ingest(message(device, alarms=("sos",))).alerts
    assert alert.routed_to == boss
    assert "no rota" in alert.routing


def test_geofence_exit_raises_one_event_not_a_flapping_series():
    device = make_device()
    make_circle(device, *HOME, 200, kind="safe")
    start = timezone.now() - dt.timedelta(minutes=10)
    # Inside, then jitter around the edge, then out, then jitter just outside.
    track = [0, 50, 190, 205, 195, 210, 198, 300, 400, 205, 215, 400]
    alerts = []
    for number, metres in enumerate(track):
        result = services.ingest(
            message(
                device,
                fix_time=start + dt.timedelta(seconds=10 * number),
                lat=north(metres)[0],
                lon=HOME[1],
                accuracy=5,
            )
        )
        alerts += result.alerts
    events = list(Event.objects.filter(device=device).values_list("type", flat=True))
    assert sorted(events) == ["geofence_enter", "geofence_exit"]
    assert len(alerts) == 1 and "Left safe zone" in alerts[0].title


def test_exclusion_zone_entry_alerts():
    device = make_device()
    fence = make_circle(None, 52.0, 0.0, 100, kind="exclusion")
    result = services.ingest(message(device, lat=52.0, lon=0.0, accuracy=5))
    assert [e.type for e in result.events] == ["geofence_enter"]
    assert str(result.events[0].geofence_id) == str(fence.pk)
    assert result.alerts[0].severity == "critical"
    assert f"Entered exclusion zone {fence.name} – {device.name}" == result.alerts[0].title


def test_two_devices_entering_one_zone_in_one_batch_alert_each():
    first, second = make_device(), make_device()
    fence = make_circle(None, 52.0, 0.0, 100, kind="exclusion")
    outcomes = services.ingest_batch(
        [message(d, lat=52.0, lon=0.0, accuracy=5) for d in (first, second, first)]
    )
    assert [len(o.alerts) for o in outcomes] == [1, 1, 0]  # the third is a resend
    assert Event.objects.filter(geofence=fence).count() == 2


def test_out_of_order_fix_does_not_move_the_fence_state():
    device = make_device()
    make_circle(device, *HOME, 200)
    now = timezone.now()
    services.ingest(message(device, fix_time=now, lat=HOME[0], lon=HOME[1], accuracy=5))
    old = services.ingest(
        message(device, fix_time=now - dt.timedelta(minutes=5), lat=10, lon=10, accuracy=5)
    )
    assert old.late and old.position is not None and old.events == []


def test_low_battery_alerts_once():
    device = make_device()
    now = timezone.now()
    levels = [50, 15, 12, 10]
    alerts = []
    for number, level in enumerate(levels):
        alerts += services.ingest(
            message(device, fix_time=now + dt.timedelta(seconds=number), battery=level)
        ).alerts
    assert [a.event.type for a in alerts] == ["low_battery"]


def test_acknowledge_by_recipient_and_refusals():
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    other = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, _ = make_rota(officer)
    device = make_device(rota_name=rota_name)
    [alert] = services.ingest(message(device, alarms=("sos",))).alerts
    with pytest.raises(services.AlertNotFound):
        services.acknowledge(other, alert.pk)
    acknowledged = services.acknowledge(officer, alert.pk, "on my way")
    assert acknowledged.status == AlertStatus.ACKNOWLEDGED
    assert acknowledged.acknowledgement.note == "on my way"
    with pytest.raises(services.ConflictError):
        services.acknowledge(officer, alert.pk)
    assert LedgerEntry.objects.filter(object_id=str(alert.pk), action="alteration").count() == 1


def test_unacknowledged_alert_escalates_down_the_chain_then_to_supervisors():
    first = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    second = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, supervisor = make_rota(first, second)
    device = make_device(rota_name=rota_name)
    [alert] = services.ingest(message(device, alarms=("sos",))).alerts
    assert alert.routed_to == first
    assert services.escalate_due() == []  # not yet due
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6), tick=False):
        [escalated] = services.escalate_due()
    assert escalated.routed_to == second and escalated.status == AlertStatus.ESCALATED
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=12), tick=False):
        [escalated] = services.escalate_due()
    assert escalated.routed_to == supervisor and escalated.escalate_at is None
    assert set(escalated.recipients) >= {first.pk, second.pk, supervisor.pk}
    # Anyone it reached may still acknowledge.
    services.acknowledge(first, alert.pk)
    entries = LedgerEntry.objects.filter(object_id=str(alert.pk))
    assert sorted(entries.values_list("action", flat=True)) == [
        "alteration",
        "collection",
        "disclosure",
        "disclosure",
    ]


def test_escalate_command_and_task():
    from django.core.management import call_command

    from haven.telemetry import tasks

    device = make_device()
    UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    other = make_device()
    services.ingest(message(device, alarms=("sos",)))
    [alert] = services.ingest(message(other, alarms=("sos",))).alerts
    alert.refresh_from_db()
    assert alert.escalate_at is None  # supervisors are the end of the line
    call_command("telemetry", "escalate")
    assert tasks.escalate_alerts.enqueue().return_value == 0


def test_offline_sweep_and_back_online():
    UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    device = make_device(expected_interval_s=60)
    services.ingest(message(device, lat=1, lon=1))
    assert services.check_offline() == []
    later = timezone.now() + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        [alert] = services.check_offline()
        assert services.check_offline() == []  # once
    assert alert.event.type == "offline"
    device.refresh_from_db()
    assert device.status == DeviceStatus.OFFLINE
    result = services.ingest(message(device, fix_time=later, lat=1, lon=1))
    assert [e.type for e in result.events] == ["online"]


def test_owntracks_last_will_is_an_offline_alert():
    UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    device = make_device(device_id="jane/phone")
    result = services.ingest(message(device, protocol="owntracks", kind="lwt"))
    assert [a.event.type for a in result.alerts] == ["offline"]
    assert TelemetryDevice.objects.get(pk=device.pk).status == DeviceStatus.OFFLINE


def test_flood_from_one_device_is_dropped_but_alarms_and_others_pass(settings):
    settings.HAVEN_TELEMETRY = {"flood_per_device_per_minute": 3}
    noisy, quiet = make_device(), make_device()
    now = timezone.now()
    reasons = []
    for number in range(5):
        try:
            services.ingest(message(noisy, fix_time=now - dt.timedelta(seconds=number)))
        except Rejected as refused:
            reasons.append(refused.reason)
    assert reasons == ["flood", "flood"]
    assert services.ingest(message(noisy, alarms=("sos",))).alerts
    assert services.ingest(message(quiet, lat=1, lon=1)).position is not None


def test_speed_unit_per_device():
    device = make_device(speed_unit="kmh")
    result = services.ingest(message(device, lat=1, lon=1, speed_raw=36.0, speed_mps=36 * 0.514444))
    assert result.position is not None
    assert result.position.speed_mps == pytest.approx(10.0)


def test_retention_purge():
    device = make_device()
    services.ingest(message(device, fix_time=timezone.now() - dt.timedelta(days=100), lat=1, lon=1))
    services.ingest(message(device, lat=1, lon=1))
    assert services.purge_positions() == 1
    assert Position.objects.count() == 1


def test_register_device_links_the_equipment_asset_and_refuses_duplicates():
    from django.core.exceptions import ValidationError

    device = make_device(device_id="unique-1")
    assert device.asset_id is None  # no asset reports with this id
    with pytest.raises(ValidationError):
        make_device(device_id="unique-1")
    with pytest.raises(ValidationError):
        make_device(device_id="  ")

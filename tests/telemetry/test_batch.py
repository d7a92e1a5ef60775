"""Batched ingest (one transaction for many messages) and the group-commit writer behind the
MQTT listener and the standalone OsmAnd server: same rules as one message at a time."""

from __future__ import annotations

import datetime as dt
import io
import threading
from typing import Any

import pytest
from django.db import OperationalError, transaction
from django.utils import timezone

from haven.audit.models import LedgerEntry
from haven.telemetry import rows, services
from haven.telemetry.batching import BatchWriter, StoreFailed
from haven.telemetry.geofence import M_PER_DEG_LAT
from haven.telemetry.models import Alert, Event, Position, TelemetryDevice
from haven.telemetry.protocols import Message, Rejected

from .helpers import make_circle, make_device, message

HOME = (51.5, -0.12)


def north(metres: float) -> float:
    return HOME[0] + metres / M_PER_DEG_LAT


def ago(seconds: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


# ------------------------------------------------------------------------------ ingest_batch


@pytest.mark.django_db
def test_duplicates_within_one_batch_are_stored_once():
    device = make_device()
    fix = ago(5)
    outcomes = services.ingest_batch(
        [message(device, fix_time=fix, lat=1, lon=1) for _ in range(3)]
    )
    assert [o.duplicate for o in outcomes] == [False, True, True]
    assert Position.objects.filter(device=device).count() == 1


@pytest.mark.django_db
def test_a_resend_of_a_stored_fix_in_a_later_batch_is_a_duplicate():
    device = make_device()
    first = ago(20)
    services.ingest_batch([message(device, fix_time=first, lat=1, lon=1)])
    services.ingest_batch([message(device, fix_time=ago(10), lat=1, lon=1)])
    [old, new] = services.ingest_batch(
        [message(device, fix_time=first, lat=1, lon=1), message(device, fix_time=ago(1))]
    )
    assert old.duplicate and not new.duplicate
    assert Position.objects.filter(device=device).count() == 2


@pytest.mark.django_db
def test_out_of_order_within_a_batch_is_late_and_does_not_move_the_fence_state():
    device = make_device()
    make_circle(device, *HOME, 200)
    newer = message(device, fix_time=ago(10), lat=HOME[0], lon=HOME[1], accuracy=5)
    older = message(device, fix_time=ago(60), lat=10, lon=10, accuracy=5)
    [first, second] = services.ingest_batch([newer, older])
    assert [e.type for e in first.events] == ["geofence_enter"]
    assert second.late and second.position is not None and second.events == []
    device.refresh_from_db()
    assert device.last_fix_at == newer.fix_time and len(device.inside_fences) == 1


@pytest.mark.django_db
def test_alarm_on_a_duplicate_position_in_the_same_batch_still_alerts():
    device = make_device()
    fix = ago(3)
    [plain, alarm] = services.ingest_batch(
        [
            message(device, fix_time=fix, lat=1, lon=1),
            message(device, fix_time=fix, lat=1, lon=1, alarms=("sos",)),
        ]
    )
    assert alarm.duplicate and [a.severity for a in alarm.alerts] == ["critical"]
    assert plain.alerts == []
    assert Alert.objects.filter(device=device).count() == 1


@pytest.mark.django_db
def test_unknown_device_is_refused_alone_and_the_others_are_stored():
    one, two = make_device(), make_device()
    stranger = Message(device_id="nobody", protocol="osmand-form", fix_time=ago(1), lat=1, lon=1)
    outcomes = services.ingest_batch(
        [message(one, lat=1, lon=1), stranger, message(two, lat=2, lon=2)]
    )
    assert isinstance(outcomes[1], Rejected) and outcomes[1].reason == "unknown_device"
    assert outcomes[0].position is not None and outcomes[2].position is not None
    assert Position.objects.count() == 2


@pytest.mark.django_db
def test_flood_is_refused_per_message(settings):
    settings.HAVEN_TELEMETRY = {"flood_per_device_per_minute": 2}
    noisy = make_device()
    batch = [message(noisy, fix_time=ago(10 - n), lat=1, lon=1) for n in range(3)]
    outcomes = services.ingest_batch([*batch, message(noisy, alarms=("sos",))])
    assert isinstance(outcomes[2], Rejected) and outcomes[2].status == 429
    assert outcomes[3].alerts  # alarms pass the flood gate
    assert Position.objects.filter(lat__isnull=False).count() == 2


@pytest.mark.django_db
def test_a_sender_with_back_pressure_is_never_refused_for_flooding(settings):
    settings.HAVEN_TELEMETRY = {"flood_per_device_per_minute": 2}
    backfilling = make_device()
    batch = [
        message(backfilling, fix_time=ago(100 - n), lat=1, lon=1, back_pressure=True)
        for n in range(10)
    ]
    outcomes = services.ingest_batch(batch)
    assert not any(isinstance(outcome, Rejected) for outcome in outcomes)
    assert Position.objects.count() == 10


@pytest.mark.django_db
def test_late_sos_in_a_batch_still_alerts_flagged_late():
    device = make_device(kind="panic_alarm")
    late = message(device, fix_time=ago(3600), lat=1, lon=1, alarms=("sos",))
    [fresh, outcome] = services.ingest_batch([message(device, fix_time=ago(1), lat=1, lon=1), late])
    assert fresh.alerts == []
    [alert] = outcome.alerts
    assert alert.late and "LATE" in alert.title
    assert LedgerEntry.objects.filter(object_type="telemetry_alert", object_id=str(alert.pk))


@pytest.mark.django_db
def test_geofence_exit_within_one_batch_raises_exactly_one_event():
    device = make_device()
    make_circle(device, *HOME, 200, kind="safe")
    start = ago(600)
    track = [0, 50, 190, 205, 195, 210, 198, 300, 400, 205, 215, 400]
    outcomes = services.ingest_batch(
        [
            message(
                device, fix_time=start + dt.timedelta(seconds=10 * n), lat=north(m), lon=HOME[1]
            )
            for n, m in enumerate(track)
        ]
    )
    types = sorted(Event.objects.filter(device=device).values_list("type", flat=True))
    assert types == ["geofence_enter", "geofence_exit"]
    alerts = [a for o in outcomes for a in o.alerts]
    assert len(alerts) == 1 and "Left safe zone" in alerts[0].title


@pytest.mark.django_db
def test_protected_person_positions_stay_encrypted_in_a_batch():
    from django.db import connection

    device = make_device(protects_person=True)
    services.ingest_batch(
        [message(device, fix_time=ago(n), lat=51.512345, lon=-0.123456) for n in (2, 1)]
    )
    assert [p.point for p in Position.objects.filter(device=device)] == [(51.512345, -0.123456)] * 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed, lat FROM telemetry_position")
        rows = cursor.fetchall()
    assert all(
        raw.startswith("hv1.") and "51.512345" not in raw and lat is None for raw, lat in rows
    )


@pytest.mark.django_db
def test_device_state_is_written_back_for_every_device_in_the_batch():
    one, two = make_device(), make_device()
    fence = make_circle(two, *HOME, radius_m=200)
    fix_time = ago(5).replace(microsecond=123456)
    services.ingest_batch(
        [
            message(one, lat=1, lon=1, battery=50),
            message(two, lat=HOME[0], lon=HOME[1], accuracy=5, battery=10, fix_time=fix_time),
        ]
    )
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.status, one.battery_level, one.battery_low) == ("online", 50, False)
    assert (two.battery_level, two.battery_low) == (10, True)
    assert two.last_seen_at is not None and two.last_fix_at == fix_time
    assert two.inside_fences == [str(fence.pk)] and one.inside_fences == []


@pytest.mark.django_db
def test_locked_devices_read_exactly_as_the_orm_reads_them():
    device, inactive = make_device(), make_device()
    TelemetryDevice.objects.filter(pk=inactive.pk).update(active=False)
    make_circle(device, *HOME, radius_m=200)
    services.ingest_batch([message(device, lat=HOME[0], lon=HOME[1], accuracy=5, battery=40)])
    with transaction.atomic():
        [locked] = rows.lock_devices({device.device_id, inactive.device_id, "nobody"})
    fresh = TelemetryDevice.objects.get(pk=device.pk)
    fields = TelemetryDevice._meta.concrete_fields
    assert [getattr(locked, f.attname) for f in fields] == [
        getattr(fresh, f.attname) for f in fields
    ]
    assert locked.inside_fences and not locked._state.adding


@pytest.mark.django_db
def test_positions_and_device_state_written_together_read_back_as_sent():
    """rows.write_batch (PostgreSQL: one INSERT from binary arrays, WITH the state UPDATE):
    whole numbers in float columns, missing values and attributes read back as sent."""
    one, two = make_device(), make_device()
    at = ago(30).replace(microsecond=654321)
    services.ingest_batch(
        [
            message(one, fix_time=at, lat=51, lon=0, accuracy=5.5, speed_mps=3, battery=40),
            message(two, fix_time=at, lat=52.25, lon=-1.5, attributes={"io1": 7, "ign": True}),
        ]
    )
    first, second = (Position.objects.get(device=d) for d in (one, two))
    assert (first.lat, first.lon, first.accuracy, first.speed_mps, first.battery) == (
        51.0,
        0.0,
        5.5,
        3.0,
        40.0,
    )
    assert first.fix_time == at and first.altitude is None and first.protocol == "osmand-form"
    assert (second.battery, second.attributes) == (None, {"io1": 7, "ign": True})
    one.refresh_from_db()
    assert (one.battery_level, one.last_fix_at, one.status) == (40.0, at, "online")


@pytest.mark.django_db
def test_a_database_error_stores_nothing_of_the_batch(monkeypatch):
    one, two = make_device(), make_device()

    def broken(positions: Any, devices: Any, state: Any) -> None:
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(rows, "write_batch", broken)
    batch = [message(one, lat=1, lon=1, alarms=("sos",)), message(two, lat=2, lon=2)]
    with pytest.raises(OperationalError):
        services.ingest_batch(batch)
    assert Position.objects.count() == 0 and Alert.objects.count() == 0
    assert TelemetryDevice.objects.filter(last_seen_at__isnull=False).count() == 0


# ------------------------------------------------------------------------------ the writer


class Recorder:
    """A store that records its batches; `hold` keeps the first batch waiting."""

    def __init__(self, fail: type[Exception] | None = None, poison: str = "") -> None:
        self.batches: list[list[str]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()
        self.fail, self.poison = fail, poison

    def __call__(self, messages: list[Message], *, received_at: list[Any]) -> list[Any]:
        self.entered.set()
        self.hold.wait(10)
        ids = [m.device_id for m in messages]
        if self.fail:
            raise self.fail("database is locked")
        if self.poison in ids:
            raise ValueError("cannot store this one")
        self.batches.append(ids)
        return [Rejected("unknown_device") if i.startswith("nobody") else object() for i in ids]


def plain(device_id: str) -> Message:
    return Message(device_id=device_id, protocol="owntracks", fix_time=timezone.now())


def test_messages_queued_during_a_commit_share_the_next_one():
    store = Recorder()
    store.hold.clear()
    writer = BatchWriter(store=store)
    first = writer.submit(plain("a"), timezone.now())
    assert store.entered.wait(10)
    waiting = [writer.submit(plain(name), timezone.now()) for name in "bcde"]
    assert not first.done()  # answered only after its commit
    store.hold.set()
    assert all(not isinstance(f.result(10), Rejected) for f in [first, *waiting])
    writer.stop()
    assert store.batches == [["a"], ["b", "c", "d", "e"]]


def test_a_failed_batch_fails_every_message_in_it():
    writer = BatchWriter(store=Recorder(fail=OperationalError))
    futures = [writer.submit(plain(name), timezone.now()) for name in "ab"]
    writer.stop()
    for future in futures:
        assert isinstance(future.exception(10), StoreFailed)


def test_a_message_that_cannot_be_stored_does_not_take_its_batch_down():
    store = Recorder(poison="bad")
    store.hold.clear()
    writer = BatchWriter(store=store)
    writer.submit(plain("first"), timezone.now())
    assert store.entered.wait(10)
    futures = [writer.submit(plain(name), timezone.now()) for name in ("a", "bad", "b")]
    store.hold.set()
    writer.stop()
    assert isinstance(futures[1].exception(10), StoreFailed)
    assert futures[0].exception(10) is None and futures[2].exception(10) is None
    assert store.batches == [["first"], ["a"], ["b"]]


def test_after_stop_messages_fail_instead_of_waiting():
    writer = BatchWriter(store=Recorder())
    writer.stop()
    assert isinstance(writer.submit(plain("a"), timezone.now()).exception(1), StoreFailed)


# ------------------------------------------------------------------------------ MQTT acks


class FakeClient:
    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack(self, mid: int, qos: int) -> None:
        self.acked.append(mid)


class FakeMessage:
    def __init__(self, mid: int, payload: bytes, topic: str = "owntracks/jane/phone") -> None:
        self.mid, self.qos, self.topic, self.payload = mid, 1, topic, payload


def listener_with(store: Recorder) -> tuple[Any, FakeClient, list[str]]:
    from haven.telemetry.mqtt import Listener

    seen: list[str] = []
    listener = Listener(
        writer=BatchWriter(store=store), on_stored=lambda topic, reply: seen.append(reply.reason)
    )
    fake = FakeClient()
    listener.client = fake  # type: ignore[assignment]
    return listener, fake, seen


def location(tst: int) -> bytes:
    return f'{{"_type":"location","lat":48.85,"lon":2.29,"tst":{tst}}}'.encode()


def test_mqtt_acks_each_message_after_its_batch_commits():
    now = int(timezone.now().timestamp())
    listener, fake, seen = listener_with(Recorder())
    listener._on_message(fake, None, FakeMessage(1, location(now - 5)))
    listener._on_message(fake, None, FakeMessage(2, b"not json"))  # refused: acked at once
    listener._on_message(fake, None, FakeMessage(3, location(now - 4), "owntracks/nobody/x"))
    listener.writer.stop()  # waits for the writer: its callbacks have run
    assert sorted(fake.acked) == [1, 2, 3]
    assert sorted(seen) == ["", "malformed_json", "unknown_device"]


def test_mqtt_messages_of_a_failed_batch_stay_unacknowledged():
    now = int(timezone.now().timestamp())
    listener, fake, seen = listener_with(Recorder(fail=OperationalError))
    for mid in (1, 2):
        listener._on_message(fake, None, FakeMessage(mid, location(now - mid)))
    listener.writer.stop()
    assert fake.acked == [] and seen == []
    assert listener.counts["unstored"] == 2


def test_mqtt_retries_nothing_once_its_writer_has_stopped(monkeypatch):
    from haven.telemetry import mqtt

    timers: list[tuple[object, ...]] = []

    class Timer:  # records instead of starting a thread
        def __init__(self, *args: object) -> None:
            timers.append(args)

        def start(self) -> None:
            pass

    monkeypatch.setattr(mqtt.threading, "Timer", Timer)
    listener, fake, _ = listener_with(Recorder())
    failed = StoreFailed("the batch failed")
    parsed = mqtt.receivers.parse_mqtt("owntracks/jane/phone", location(1), timezone.now())
    listener._stored(FakeMessage(1, location(1)), parsed, timezone.now(), 0, None, failed)
    assert len(timers) == 1  # a running writer: stored again after a back-off
    listener.writer.stop()
    listener._stored(FakeMessage(2, location(2)), parsed, timezone.now(), 0, None, failed)
    assert len(timers) == 1 and fake.acked == []  # left for the broker's next session


# ------------------------------------------------------------------------------ HTTP answers


def call(app: Any, query: str) -> str:
    answer: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"] = status

    environ = {"QUERY_STRING": query, "CONTENT_TYPE": "", "wsgi.input": io.BytesIO(b"")}
    b"".join(app(environ, start_response))
    return answer["status"][:3]


@pytest.mark.django_db(transaction=True)
def test_osmand_group_commit_answers_each_request_after_the_commit(resettable_ledger, settings):
    from haven.telemetry.server import make_osmand_app

    settings.HAVEN_TELEMETRY = {"flood_per_device_per_minute": 1}
    make_device(device_id="gc-1")
    make_device(device_id="gc-2")
    stamp = int(timezone.now().timestamp())
    queries = {
        "stored": f"id=gc-1&lat=1&lon=2&timestamp={stamp - 9}",
        "unknown": f"id=ghost&lat=1&lon=2&timestamp={stamp - 9}",
        "malformed": "lat=95&lon=0",  # no device id
        "sos": f"id=gc-2&timestamp={stamp - 3600}&alarm=sos",
        "flood": f"id=gc-1&lat=1&lon=2&timestamp={stamp - 5}",
    }
    writer = BatchWriter()
    app = make_osmand_app(writer)
    concurrent = [f"id=gc-2&lat=1&lon=2&timestamp={stamp - 8 + k}" for k in range(6)]
    together: list[str] = []
    try:
        answers = {name: call(app, query) for name, query in queries.items()}
        settings.HAVEN_TELEMETRY = {}  # no flood limit for the concurrent ones
        threads = [
            threading.Thread(target=lambda q=q: together.append(call(app, q))) for q in concurrent
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        writer.stop()
    assert answers == {
        "stored": "200",
        "unknown": "400",
        "malformed": "400",
        "sos": "200",
        "flood": "429",
    }
    assert together == ["200"] * len(concurrent)
    with_fix = Position.objects.filter(lat__isnull=False)
    assert with_fix.count() == 1 + len(concurrent) and Alert.objects.count() == 1


def test_osmand_answers_503_when_its_batch_fails():
    from haven.telemetry.server import make_osmand_app

    writer = BatchWriter(store=Recorder(fail=OperationalError))
    stamp = int(timezone.now().timestamp())
    try:
        assert call(make_osmand_app(writer), f"id=x&lat=1&lon=2&timestamp={stamp}") == "503"
    finally:
        writer.stop()

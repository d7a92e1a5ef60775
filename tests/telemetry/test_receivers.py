"""The device receivers over HTTP (Django view, standalone server) and MQTT (real Mosquitto)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import urllib.error
import urllib.request
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from haven.telemetry import services
from haven.telemetry.models import Alert, Position

from .helpers import make_device

pytestmark = pytest.mark.django_db
OSMAND = "/api/telemetry/osmand"
OWNTRACKS = "/api/telemetry/owntracks"


def stamp(seconds_ago: int = 0) -> int:
    return int(timezone.now().timestamp()) - seconds_ago


def test_legacy_get_query_form_post_and_json_all_land(client: Client):
    device = make_device(device_id="123456")
    response = client.get(f"{OSMAND}?id=123456&lat=52.52&lon=13.405&timestamp={stamp(30)}&speed=10")
    assert response.status_code == 200 and response.content == b""
    response = client.post(
        OSMAND,
        f"id=123456&lat=52.52&lon=13.405&timestamp={stamp(20)}&alarm=sos",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and response.content == b""
    document = {
        "location": {
            "timestamp": timezone.now().isoformat(),
            "coords": {"latitude": 52.5, "longitude": 13.4, "accuracy": 5, "speed": 1},
            "battery": {"level": 0.8},
        },
        "device_id": "123456",
    }
    response = client.put(OSMAND, json.dumps(document), content_type="application/json")
    assert response.status_code == 200
    assert Position.objects.filter(device=device).count() == 3
    assert Alert.objects.filter(device=device, event__key="sos").count() == 1


def test_heartbeat_and_resend_answer_200(client: Client):
    make_device(device_id="hb")
    body = f"id=hb&timestamp={stamp(60)}"
    for _ in range(2):
        response = client.post(OSMAND, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200


def test_unknown_device_400_query_404_json_and_nothing_stored(client: Client):
    assert client.get(f"{OSMAND}?id=ghost&lat=1&lon=1").status_code == 400
    body = json.dumps({"device_id": "ghost", "location": {}})
    assert client.post(OSMAND, body, content_type="application/json").status_code == 404
    assert Position.objects.count() == 0
    assert services.REJECTED["unknown_device"] == 2


@pytest.mark.parametrize(
    ("query", "body", "content_type"),
    [
        ("", b"[1,2,3]", "application/json"),
        ("", b"{broken", "application/json"),
        ("", b"", ""),
    ],
)
def test_bad_input_is_400_and_counted(client: Client, query, body, content_type):
    make_device(device_id="1")
    response = client.generic("POST", f"{OSMAND}?{query}", body, content_type=content_type)
    assert response.status_code == 400
    assert sum(services.REJECTED.values()) == 1
    assert Position.objects.count() == 0


def test_owntracks_http_mode(client: Client):
    device = make_device(device_id="jane/phone")
    payload = {"_type": "location", "lat": 48.85, "lon": 2.29, "tst": stamp(5), "tid": "JJ"}
    response = client.post(
        OWNTRACKS,
        json.dumps(payload),
        content_type="application/json",
        headers={"X-Limit-U": "jane", "X-Limit-D": "phone"},
    )
    assert response.status_code == 200 and response.json() == []
    with_topic = {**payload, "tst": stamp(1), "topic": "owntracks/jane/phone"}
    response = client.post(OWNTRACKS, json.dumps(with_topic), content_type="application/json")
    assert response.status_code == 200
    assert Position.objects.filter(device=device).count() == 2
    assert client.get(OWNTRACKS).status_code == 405
    assert client.post(OWNTRACKS, b"", content_type="application/json").json() == []
    unknown = client.post(
        OWNTRACKS + "?u=x&d=y", json.dumps(payload), content_type="application/json"
    )
    assert unknown.status_code == 404


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_standalone_osmand_server_any_path(resettable_ledger):
    from haven.telemetry.server import make_osmand_server

    make_device(device_id="srv-1")
    port = free_port()
    server = make_osmand_server("127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{port}/any/path/?id=srv-1&lat=1&lon=2&timestamp={stamp(3)}"
        with urllib.request.urlopen(url) as response:  # noqa: S310 - loopback test server
            assert response.status == 200 and response.read() == b""
        form = urllib.request.Request(  # noqa: S310
            f"http://127.0.0.1:{port}/", data=b"id=srv-1&alarm=sos", method="POST"
        )
        with urllib.request.urlopen(form) as response:  # noqa: S310
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/?id=nobody")  # noqa: S310
        assert refused.value.code == 400
    finally:
        server.shutdown()
        server.server_close()
    assert Position.objects.filter(lat__isnull=False).count() == 1  # (and the no-fix alarm)
    assert Alert.objects.count() == 1


def broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_mqtt_owntracks_published_with_mosquitto_pub_land(resettable_ledger):
    if not broker_up():
        pytest.skip(
            "Mosquitto is not answering on 127.0.0.1:1883 (start it: service mosquitto start)"
        )
    from haven.telemetry.mqtt import Listener

    prefix = f"owntracks/t{uuid.uuid4().hex[:10]}"
    user = prefix.split("/")[1]
    device = make_device(device_id=f"{user}/phone")
    done = threading.Event()
    seen: list[str] = []

    def stored(topic: str, reply: object) -> None:
        seen.append(topic)
        if len(seen) >= 4:
            done.set()

    listener = Listener(
        topic=f"{prefix}/#",
        client_id=f"haven-test-{uuid.uuid4().hex[:8]}",
        persistent=False,
        on_stored=stored,
    )
    listener.start()
    try:
        assert listener.subscribed.wait(10), "no subscription to the broker"
        location = {"_type": "location", "lat": 48.85, "lon": 2.29, "tst": stamp(10), "acc": 5}
        sos = {**location, "tst": stamp(5), "alarm": "sos"}
        for payload in (location, location, sos, {"_type": "lwt", "tst": stamp(1)}):
            subprocess.run(  # noqa: S603
                [
                    "mosquitto_pub",
                    "-h",
                    "127.0.0.1",
                    "-q",
                    "1",
                    "-t",
                    f"{prefix}/phone",
                    "-m",
                    json.dumps(payload),
                ],
                check=True,
                timeout=10,
            )
        assert done.wait(15), f"only {len(seen)} messages arrived"
    finally:
        listener.stop()
    assert Position.objects.filter(device=device).count() == 2  # the resend stored once
    assert sorted(Alert.objects.filter(device=device).values_list("event__type", flat=True)) == [
        "alarm",
        "offline",
    ]
    assert listener.counts["stored"] == 4


@pytest.mark.django_db(transaction=True)
def test_mqtt_listeners_of_one_share_group_split_the_messages_between_them(resettable_ledger):
    if connection.vendor != "postgresql":
        pytest.skip("two listeners store at once: PostgreSQL (SQLite's test database locks tables)")
    if not broker_up():
        pytest.skip(
            "Mosquitto is not answering on 127.0.0.1:1883 (start it: service mosquitto start)"
        )
    import paho.mqtt.client as mqtt

    from haven.telemetry.mqtt import Listener

    prefix = f"owntracks/t{uuid.uuid4().hex[:10]}"
    user = prefix.split("/")[1]
    devices = [make_device(device_id=f"{user}/phone{k}") for k in range(4)]
    stored = threading.Semaphore(0)
    group = f"haven-test-{uuid.uuid4().hex[:8]}"
    listeners = [
        Listener(
            topic=f"{prefix}/#",
            share=group,
            client_id=f"{group}-{k}",
            persistent=False,
            on_stored=lambda topic, reply: stored.release(),
        )
        for k in range(2)
    ]
    for listener in listeners:
        listener.start()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{group}-pub")
    try:
        assert all(listener.subscribed.wait(10) for listener in listeners)
        publisher.connect("127.0.0.1", 1883)
        publisher.loop_start()
        for n in range(20):
            fix = {"_type": "location", "lat": 48.85, "lon": 2.29, "tst": stamp(100 - n)}
            publisher.publish(f"{prefix}/phone{n % 4}", json.dumps(fix), qos=1).wait_for_publish(5)
        arrived = sum(stored.acquire(timeout=15) for _ in range(20))
        assert arrived == 20, [listener.counts for listener in listeners]
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        for listener in listeners:
            listener.stop()
    assert listeners[0].topic == f"$share/{group}/{prefix}/#"
    assert [listener.counts["stored"] > 0 for listener in listeners] == [True, True]
    assert sum(listener.counts["stored"] for listener in listeners) == 20  # each message once
    assert Position.objects.filter(device__in=devices).count() == 20


def _publish_all(prefix: str, payloads: list[dict[str, object]]) -> None:
    import paho.mqtt.client as mqtt

    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix[-10:]}-pub")
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    try:
        infos = [publisher.publish(f"{prefix}/phone", json.dumps(p), qos=1) for p in payloads]
        for info in infos:
            info.wait_for_publish(15)
    finally:
        publisher.disconnect()
        publisher.loop_stop()


@pytest.mark.django_db(transaction=True)
def test_mqtt_backfill_flood_all_stored_and_a_failed_batch_stored_again(resettable_ledger):
    if not broker_up():
        pytest.skip("Mosquitto is not answering on 127.0.0.1:1883")
    from django.db import OperationalError

    from haven.telemetry.batching import BatchWriter
    from haven.telemetry.mqtt import Listener

    prefix = f"owntracks/b{uuid.uuid4().hex[:10]}"
    user = prefix.split("/")[1]
    device = make_device(device_id=f"{user}/phone")
    failures = {"left": 1}

    def locked_once(messages, *, received_at):  # the database is locked for the first batch
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("database is locked")
        return services.ingest_batch(messages, received_at=received_at)

    done = threading.Event()
    stored: list[str] = []

    def on_stored(topic: str, reply: object) -> None:
        stored.append(topic)
        if len(stored) >= 300:
            done.set()

    listener = Listener(
        topic=f"{prefix}/#",
        client_id=f"haven-test-{uuid.uuid4().hex[:8]}",
        persistent=False,
        on_stored=on_stored,
        writer=BatchWriter(store=locked_once),
    )
    listener.start()
    try:
        assert listener.subscribed.wait(10), "no subscription to the broker"
        # 300 fixes back-filled after a day offline: far over the per-minute flood limit.
        start = stamp(86400)
        fixes = [
            {"_type": "location", "lat": 48.85 + n / 1e4, "lon": 2.29, "tst": start + n * 60}
            for n in range(300)
        ]
        fixes[7]["batt"] = "full"  # one bad optional field drops nothing
        _publish_all(prefix, fixes)
        assert done.wait(60), f"only {len(stored)} of 300 stored"
    finally:
        listener.stop()
    assert failures["left"] == 0 and listener.counts["unstored"] >= 1  # it did fail once
    assert Position.objects.filter(device=device, lat__isnull=False).count() == 300
    assert listener.counts["stored"] == 300 and "flood" not in listener.counts


def test_an_asset_registered_with_a_device_id_is_a_tracker_the_receiver_accepts(client: Client):
    from haven.accounts.roles import Role
    from haven.equipment import services as equipment
    from haven.equipment.models import AssetType
    from haven.telemetry.models import TelemetryDevice
    from tests.factories import UserFactory

    supervisor = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    asset = equipment.register_asset(
        supervisor,
        asset_type=AssetType.objects.get(code="vehicle-tracker"),
        make="Fictitrack",
        model_name="FT-200",
        serial="T-ASSET-1",
        device_id="asset-tracker-1",
    )
    device = TelemetryDevice.objects.get(device_id="asset-tracker-1")
    assert device.asset_id == asset.pk and device.kind == "vehicle_tracker"
    response = client.get(f"{OSMAND}?id=asset-tracker-1&lat=51.5&lon=-0.1&timestamp={stamp(5)}")
    assert response.status_code == 200
    assert Position.objects.filter(device=device).count() == 1
    # Kit that is not a tracker (a camera, say) with no device id registers nothing.
    assert TelemetryDevice.objects.count() == 1


def test_demo_trackers_are_accepted_by_the_osmand_receiver(client: Client):
    from haven.accounts.roles import Role
    from haven.equipment.demo import create_demo_equipment
    from tests.factories import UserFactory

    UserFactory(username="supervisor", roles=[Role.TECHNICAL_SUPERVISOR])
    UserFactory(username="technician", roles=[Role.TECHNICAL_OFFICER])
    assert create_demo_equipment() is not None
    for device_id in ("demo-tracker-1", "demo-tracker-2"):
        query = f"id={device_id}&lat=51.5&lon=-0.1&timestamp={stamp(5)}"
        assert client.get(f"{OSMAND}?{query}").status_code == 200

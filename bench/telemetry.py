"""Benchmark: telemetry ingest with 10,000 devices and 10,000 geofences.

Figures printed (with the machine's core count):
  baseline   parse only (protocols.parse_osmand), no database: the ceiling for the same input
  in-process receivers.receive_osmand (parse + idempotent store + geofences + events)
  HTTP       loopback HTTP to `haven telemetry serve-osmand --workers N` (gunicorn), N clients
  MQTT       OwnTracks JSON published QoS 1 to Mosquitto, stored by the `listen` Listener
  latency    alarm (SOS) to committed alert: HTTP send -> 200 (alert is committed before the
             answer), and MQTT publish -> stored callback; p50 / p99

Every device has a safe zone (a 150-300 m circle around its "home"); all 10,000 fences sit in
one STRtree. Fixes fall near home (about 1% outside, which raises exit alerts to supervisors).
Runs on a temporary SQLite file, or PostgreSQL with --postgres (database haven_bench_telemetry
on HAVEN_DATABASE_URL's server, recreated).

Run:  .venv/bin/python bench/telemetry.py [--messages 20000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEVICES = 10_000
LAT0, LON0 = 51.3, -0.5  # a 0.4 x 0.8 degree area (London-sized)


def configure(url: str, data_dir: str) -> None:
    os.environ["HAVEN_DATABASE_URL"] = url
    os.environ["HAVEN_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "haven.settings_test"
    sys.path[:0] = [str(ROOT)]
    import django

    django.setup()


def recreate_pg(url: str) -> str:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute("DROP DATABASE IF EXISTS haven_bench_telemetry")
        conn.execute("CREATE DATABASE haven_bench_telemetry")
    return url.rpartition("/")[0] + "/haven_bench_telemetry"


def homes() -> list[tuple[float, float]]:
    rng = random.Random(7)
    return [(LAT0 + rng.random() * 0.4, LON0 + rng.random() * 0.8) for _ in range(DEVICES)]


def populate(points: list[tuple[float, float]]) -> None:
    from django.core.management import call_command
    from tests.factories import UserFactory

    from haven.accounts.roles import Role
    from haven.telemetry.models import Geofence, TelemetryDevice

    call_command("migrate", verbosity=0)
    UserFactory(roles=[Role.TECHNICAL_SUPERVISOR], username="bench-supervisor")
    devices = [
        TelemetryDevice(device_id=f"bench-{i}", name=f"Bench {i}", kind="vehicle_tracker")
        for i in range(DEVICES)
    ]
    TelemetryDevice.objects.bulk_create(devices, batch_size=2000)
    rng = random.Random(11)
    fences = [
        Geofence(
            name=f"Home {i}",
            kind="safe",
            area={"circle": {"lat": lat, "lon": lon, "radius_m": 150 + rng.random() * 150}},
            device=device,
        )
        for i, (device, (lat, lon)) in enumerate(zip(devices, points, strict=True))
    ]
    Geofence.objects.bulk_create(fences, batch_size=2000)
    # One phone per device for MQTT too.
    TelemetryDevice.objects.bulk_create(
        [
            TelemetryDevice(device_id=f"bench/{i}", name=f"Phone {i}", kind="phone")
            for i in range(DEVICES)
        ],
        batch_size=2000,
    )


def fixes(
    points: list[tuple[float, float]], count: int, start: int, active: int = DEVICES
) -> list[str]:
    """OsmAnd query strings: one of the first `active` devices, near home (1% about 400 m away),
    one second apart."""
    rng = random.Random(start)
    queries = []
    for n in range(count):
        i = rng.randrange(active)
        lat, lon = points[i]
        far = rng.random() < 0.01
        dlat = (0.0036 if far else rng.uniform(-0.0003, 0.0003)) + rng.gauss(0, 0.00003)
        queries.append(
            f"id=bench-{i}&lat={lat + dlat:.6f}&lon={lon + rng.uniform(-0.0003, 0.0003):.6f}"
            f"&timestamp={start + n}&accuracy={rng.randint(3, 15)}&speed=3&batt=80"
        )
    return queries


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} msg/s"


def bench_parse(queries: list[str]) -> float:
    import datetime as dt

    from haven.telemetry.protocols import OsmAndOptions, parse_osmand

    options = OsmAndOptions(now=dt.datetime.now(dt.UTC))
    begin = time.perf_counter()
    for q in queries:
        parse_osmand(query_string=q, content_type="", body=b"", options=options)
    return time.perf_counter() - begin


def bench_in_process(queries: list[str]) -> float:
    from haven.telemetry import receivers

    begin = time.perf_counter()
    for q in queries:
        reply = receivers.receive_osmand(query_string=q, content_type="", body=b"")
        assert reply.status == 200, (reply, q)
    return time.perf_counter() - begin


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).with_name("haven")),
            "telemetry",
            "serve-osmand",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    return process, port


def post(port: int, body: str) -> tuple[int, float]:
    begin = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})
    status = connection.getresponse().status
    connection.close()
    return status, time.perf_counter() - begin


def bench_http(port: int, queries: list[str], clients: int) -> float:
    begin = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        statuses = list(pool.map(lambda q: post(port, q)[0], queries))
    elapsed = time.perf_counter() - begin
    assert all(s == 200 for s in statuses), {s for s in statuses}
    return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench_alarm_http(port: int, points: list[tuple[float, float]], n: int, t0: int) -> list[float]:
    from haven.telemetry.models import Alert

    latencies = []
    for k in range(n):
        i = (k * 37) % 2000
        lat, lon = points[i]
        # Sent an hour late on purpose: it must still alert.
        body = f"id=bench-{i}&lat={lat:.6f}&lon={lon:.6f}&timestamp={t0 - 3600 + k}&alarm=sos"
        status, seconds = post(port, body)
        assert status == 200
        latencies.append(seconds)
    assert Alert.objects.filter(event__key="sos").count() >= n
    return latencies


def bench_mqtt(points: list[tuple[float, float]], count: int, t0: int) -> tuple[float, list[float]]:
    import paho.mqtt.client as mqtt

    from haven.telemetry.mqtt import Listener

    prefix = "owntracks/bench"  # the phones are registered as bench/<i>
    stored = threading.Semaphore(0)
    latencies: list[float] = []

    def on_stored(topic: str, reply: object) -> None:
        stored.release()

    listener = Listener(
        topic=f"{prefix}/#", client_id=f"bench-{os.getpid()}", persistent=False, on_stored=on_stored
    )
    listener.start()
    assert listener.subscribed.wait(10), "MQTT broker not reachable"
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"benchpub-{os.getpid()}")
    publisher.max_inflight_messages_set(1000)
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    rng = random.Random(5)
    begin = time.perf_counter()
    window = 500  # Mosquitto drops QoS 1 beyond max_queued_messages (1000) for a slow reader
    waited = 0
    for n in range(count):
        if n - waited >= window:
            assert stored.acquire(timeout=120), "MQTT messages went missing"
            waited += 1
        i = rng.randrange(DEVICES)
        lat, lon = points[i]
        payload = {
            "_type": "location",
            "lat": lat + rng.uniform(-0.0002, 0.0002),
            "lon": lon,
            "tst": t0 + n,
            "acc": 8,
            "batt": 70,
        }
        publisher.publish(f"{prefix}/{i}", json.dumps(payload), qos=1)
    for _ in range(count - waited):
        assert stored.acquire(timeout=120), "MQTT messages went missing"
    elapsed = time.perf_counter() - begin
    # Alarm latency over MQTT: one at a time, publish -> stored.
    for k in range(100):
        i = (k * 53) % DEVICES
        lat, lon = points[i]
        payload = {
            "_type": "location",
            "lat": lat,
            "lon": lon,
            "tst": t0 - 3600 + k,
            "alarm": "sos",
        }
        start = time.perf_counter()
        publisher.publish(f"{prefix}/{i}", json.dumps(payload), qos=1)
        assert stored.acquire(timeout=30)
        latencies.append(time.perf_counter() - start)
    publisher.loop_stop()
    publisher.disconnect()
    listener.stop()
    return elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--active", type=int, default=2_000, help="devices sending (steady)")
    parser.add_argument("--postgres", default="")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="haven-bench-telemetry-")
    url = recreate_pg(args.postgres) if args.postgres else f"sqlite:///{data_dir}/bench.sqlite3"
    configure(url, data_dir)
    from django.db import connection

    cores = os.cpu_count() or 1
    points = homes()
    setup = time.perf_counter()
    populate(points)
    print(
        f"Telemetry bench on {connection.vendor}, {cores} cores; {DEVICES:,} devices, "
        f"{DEVICES:,} geofences (setup {time.perf_counter() - setup:.1f} s)"
    )
    t0 = int(time.time()) - 10 * 86400
    n = args.messages

    active = min(DEVICES, args.active)
    first = [
        f"id=bench-{i}&lat={points[i][0]:.6f}&lon={points[i][1]:.6f}&timestamp={t0 - 1}&accuracy=5"
        for i in range(active)
    ]
    queries = fixes(points, n, t0, active)
    parse_s = bench_parse(queries)
    print(f"  baseline parse only        {rate(n, parse_s):>14}")
    begin = time.perf_counter()
    from haven.telemetry import services

    index = services.fence_index()
    print(
        f"  fence index (STRtree)      {len(index):>8,} fences built in "
        f"{time.perf_counter() - begin:.2f} s"
    )
    first_s = bench_in_process(first)
    print(
        f"  first contact              {rate(active, first_s):>14}  ({active:,} devices: "
        "each enters its safe zone, one event per device)"
    )
    inproc_s = bench_in_process(queries)
    per_core = n / inproc_s
    print(
        f"  in-process receiver        {rate(n, inproc_s):>14}  (one core; "
        f"{inproc_s / parse_s:.1f}x parse time)"
    )
    resend_s = bench_in_process(queries[: n // 4])
    print(f"  resends (duplicates)       {rate(n // 4, resend_s):>14}")

    server, port = start_server(args.workers)
    try:
        http_queries = fixes(points, n, t0 + n + 1, active)
        http_s = bench_http(port, http_queries, clients=2 * args.workers)
        print(
            f"  loopback HTTP              {rate(n, http_s):>14}  ({args.workers} gunicorn "
            f"workers, {2 * args.workers} clients, new connection per message)"
        )
        alarm = bench_alarm_http(port, points, 200, t0 + 3 * n)
        print(
            f"  SOS -> alert over HTTP     p50 {percentile(alarm, 50) * 1000:6.1f} ms   "
            f"p99 {percentile(alarm, 99) * 1000:6.1f} ms   (200 alarms, 1 h late)"
        )
    finally:
        server.terminate()
        server.wait(10)

    try:
        mqtt_n = n // 2
        mqtt_s, mqtt_alarm = bench_mqtt(points, mqtt_n, t0 + 5 * n)
        print(f"  MQTT QoS 1 (OwnTracks)     {rate(mqtt_n, mqtt_s):>14}  (one listener)")
        print(
            f"  SOS -> alert over MQTT     p50 {percentile(mqtt_alarm, 50) * 1000:6.1f} ms   "
            f"p99 {percentile(mqtt_alarm, 99) * 1000:6.1f} ms   (100 alarms, 1 h late)"
        )
    except (AssertionError, OSError) as error:
        print(f"  MQTT skipped: {error}")

    from haven.telemetry.models import Alert, Event, Position

    print(
        f"  stored: {Position.objects.count():,} positions, {Event.objects.count():,} events, "
        f"{Alert.objects.count():,} alerts"
    )
    goal = 2500
    print(
        f"  goal >= {goal:,} msg/s per core with geofences: in-process {per_core:,.0f}/core "
        f"-> {'met' if per_core >= goal else 'NOT met'} ({per_core / goal:.2f}x goal)"
    )


if __name__ == "__main__":
    main()

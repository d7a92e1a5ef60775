"""Benchmark: telemetry ingest with 10,000 devices and 10,000 geofences.

Figures printed (with the machine's core count), each as messages/s (wall clock), that divided
by the core count ("per core, wall clock"), messages per CPU-second of the receiver (its
process(es)), of this database's PostgreSQL backends (on PostgreSQL), of the bench's own
senders, how many of the machine's cores were busy (all processes, /proc/stat), how many of
those busy cores were other processes' ("others": another job on the machine, which the wall
clock and whole-machine readings then share the cores with; a reading taken with others well
above 0 says as much about that job as about Haven), and, for a receiver of several processes,
each one's cores. The goal
(>= 2,500 messages/s per core) is judged at the end under three readings: per core of wall
clock, per CPU-second of the whole machine, per CPU-second of the receiver alone.
  baseline   parse only (protocols.parse_osmand), no database: the ceiling for the same input
  in-process receivers.receive_osmand, one transaction per message (parse + idempotent store
             + geofences + events)
  batched    the same requests parsed one by one, stored 500 per transaction (ingest_batch)
  HTTP       loopback HTTP to `haven telemetry serve-osmand --workers N` (uvicorn + httptools
             serving the bare ASGI receiver, N processes). The senders: C connections on one
             uvloop loop in this process, each sending its devices' fixes one after another
             (a device never has two fixes in flight, as with Traccar Client)
  MQTT       OwnTracks JSON published QoS 1 by a process of its own to a Mosquitto of the
             bench's own with deploy/mosquitto.conf (else the machine's on 1883), stored by L
             listener processes of one --share group (batch writer; PUBACK after commit)
  latency    alarm (SOS) to committed alert: HTTP send -> 200 (alert is committed before the
             answer), and MQTT publish -> stored; p50 / p99, one alarm at a time
  Teltonika  Codec 8 over TCP to `haven telemetry serve-teltonika --workers W` (W receiver
             processes sharing the port, as `haven up` starts it: --teltonika-workers, by
             default haven up's default, one per core and at least 2; the receiver's CPU is
             the supervisor's and every worker's, summed): C device connections (IMEI
             handshake, then one record per AVL packet, the next sent after the 4-byte
             acknowledgement, which comes after the commit; the connections and each
             tracker's first record are metered apart, "first contact", as the baseline
             ingests its trackers' first records before it is timed; the workers are warmed
             up first by 32 trackers outside the fleet, one acknowledged record each, so that
             every worker has built its fence index (the kernel spreads connections by hash:
             a worker missed by all 32 is a 1 in 2^31 chance)), and SOS (panic priority) ->
             acknowledged, one at a time. Each against the same run's bare ingest
             of the same records (decoded beforehand, untimed; services.ingest_batch in
             process, 500 per commit; SOS: services.ingest one at a time): goal, figure,
             baseline and ratio, and RESULT lines. The front's batches hold at most one record
             per tracker (each waits for its acknowledgement): --clients sets how many

Every device has a safe zone (a 150-300 m circle around its "home"); all 10,000 fences sit in
one STRtree. Fixes fall near home (about 1% outside, which raises exit alerts to supervisors).
Runs on a temporary SQLite file, or PostgreSQL with --postgres URL (database --database, default
haven_bench_telemetry, on that server, created and dropped).

Run:  .venv/bin/python bench/telemetry.py [--messages 10000] [--postgres URL] [--workers N]
      [--clients C] [--listeners L] [--teltonika-workers W] [--only teltonika]
(uvicorn, httptools and uvloop are dependencies of the project: `pip install -e .`.)
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event, Semaphore
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
from benchkit import machine_busy  # noqa: E402

DEVICES = 10_000
LAT0, LON0 = 51.3, -0.5  # a 0.4 x 0.8 degree area (London-sized)


def configure(url: str, data_dir: str) -> None:
    os.environ["HAVEN_DATABASE_URL"] = url
    os.environ["HAVEN_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "haven.settings_test"
    # As in production: receivers look for changed fences off the alarm path (the servers
    # started below inherit it).
    os.environ["HAVEN_FENCE_BACKGROUND"] = "1"
    sys.path[:0] = [str(ROOT)]
    import django

    django.setup()


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
    # A Teltonika tracker (IMEI) per device too, for the TCP front.
    TelemetryDevice.objects.bulk_create(
        [
            TelemetryDevice(device_id=imei(i), name=f"Van {i}", kind="vehicle_tracker")
            for i in range(DEVICES)
        ],
        batch_size=2000,
    )
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


def imei(i: int) -> str:
    return f"35{i:013d}"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} msg/s"


TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
GOAL = 2500  # messages/s per core, geofences evaluated
BENCH_DB = "haven_bench_telemetry"
# The database this run uses (--database): its backends are the ones metered.
bench_db = BENCH_DB


def _stat_cpu(path: str) -> float:
    """utime + stime of a /proc stat file, in seconds (0 when the process has gone)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return 0.0
    fields = text.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class cpu_of:  # noqa: N801 - used as the function it was
    """What a Meter reads for a receiver made of these processes: their CPU-seconds so far
    (and, apart, each one's: how busy each of several receiver processes was)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids

    def each(self) -> list[float]:
        return [_stat_cpu(f"/proc/{pid}/stat") for pid in self.pids]

    def __call__(self) -> float:
        return sum(self.each())


def process_tree(root: int) -> list[int]:
    """root and all its descendants (gunicorn's master and workers)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += parents.get(pid, [])
    return tree


def pg_backend_pids() -> list[int]:
    """This bench database's PostgreSQL backends (by their process title)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {bench_db} " in title:
            pids.append(int(cmdline.parent.name))
    return pids


class Meter:
    """Wall clock, receiver CPU and PostgreSQL backend CPU over one phase. `receiver` returns
    the CPU-seconds so far of whatever does the receiving. Backends that exit during the phase
    are missed (connections are kept, so they do not)."""

    def __init__(self, receiver: Callable[[], float], postgres: bool, load: bool = False) -> None:
        self.receiver, self.postgres, self.load = receiver, postgres, load
        self.batches = 0  # commits, where the receiver counts them

    def _pg(self) -> dict[int, float]:
        if not self.postgres:
            return {}
        return {pid: _stat_cpu(f"/proc/{pid}/stat") for pid in pg_backend_pids()}

    def _each(self) -> list[float]:
        return self.receiver.each() if isinstance(self.receiver, cpu_of) else []

    def __enter__(self) -> Meter:
        self.each0 = self._each()
        self.pg0, self.cpu0, self.t0 = self._pg(), self.receiver(), time.perf_counter()
        self.own0, self.machine0 = time.process_time(), machine_busy()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = self.receiver() - self.cpu0
        self.each = [b - a for a, b in zip(self.each0, self._each(), strict=True)]
        self.own_cpu = time.process_time() - self.own0
        self.machine_cpu = machine_busy() - self.machine0
        pg1 = self._pg()
        self.pg_cpu = sum(cpu - self.pg0.get(pid, 0.0) for pid, cpu in pg1.items())
        # The machine's busy CPU-seconds in processes other than the receiver, this bench and
        # its database's backends (another job, the PostgreSQL server's own processes).
        ours = self.cpu + self.pg_cpu + (self.own_cpu if self.load else 0.0)
        self.others = max(0.0, self.machine_cpu - ours)

    def per_core(self, count: int) -> float:
        """Messages/s divided by the machine's cores (wall clock)."""
        return count / self.wall / CORES

    def figures_for_goal(self, count: int) -> Figures:
        """Messages per core of wall clock, per CPU-second of the machine, of the receiver."""
        return self.per_core(count), count / max(self.machine_cpu, 1e-9), self.per_cpu(count)

    def per_cpu(self, count: int) -> float:
        """Messages per CPU-second of the receiver."""
        return count / max(self.cpu, 1e-9)

    def figures(self, count: int) -> str:
        line = (
            f"{rate(count, self.wall):>14}  {self.per_core(count):>6,.0f} /core wall  "
            f"{self.per_cpu(count):>7,.0f} msg/CPU-s"
        )
        if self.postgres:
            line += f"  PG {count / max(self.pg_cpu, 1e-9):>7,.0f} msg/CPU-s"
        if self.load:  # this process sent the messages: the load generator's cost
            line += f"  sender {count / max(self.own_cpu, 1e-9):>7,.0f} msg/CPU-s"
        busy = self.machine_cpu / self.wall
        line += f"  machine busy {busy:.2f}/{CORES} cores"
        # The rest of the machine's busy time: processes other than the receiver, this bench
        # and its database's backends (another job on the machine, the PostgreSQL server's
        # own background processes): what the wall-clock reading shared its cores with.
        line += f" (others {self.others / self.wall:.2f})"
        if len(self.each) > 1:  # each receiver process, in cores
            line += "  receiver processes " + "+".join(f"{c / self.wall:.2f}" for c in self.each)
        return line


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


def bench_in_process_batched(queries: list[str], size: int = 500) -> float:
    """The same requests parsed one by one, stored `size` at a time in one transaction each
    (what the batch writer does under load), answers checked."""
    from django.utils import timezone

    from haven.telemetry import receivers, services

    begin = time.perf_counter()
    for start in range(0, len(queries), size):
        now = timezone.now()
        messages = []
        for q in queries[start : start + size]:
            parsed = receivers.parse_osmand_request(
                query_string=q, content_type="", body=b"", now=now
            )
            assert not isinstance(parsed, receivers.Reply), (parsed, q)
            messages.append(parsed)
        outcomes = services.ingest_batch(messages, received_at=now)
        for message, outcome in zip(messages, outcomes, strict=True):
            reply = receivers.osmand_reply(message, outcome)
            assert reply.status == 200, (reply, message)
    return time.perf_counter() - begin


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    # This checkout's code, not whatever copy of haven the virtualenv has installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
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
    wait_for_port(port)
    return process, port


def wait_for_port(port: int, timeout_s: float = 10.0) -> bool:
    """Whether something listens on the port within timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def post(port: int, body: str) -> tuple[int, float]:
    begin = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})
    status = connection.getresponse().status
    connection.close()
    return status, time.perf_counter() - begin


def request_bytes(query: str, keep_alive: bool) -> bytes:
    """A Traccar Client request: the fix as a form body (its default since 2019)."""
    body = query.encode()
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode() + body


async def read_answer(reader: asyncio.StreamReader) -> int:
    """The status of one answer; its body (Content-Length) is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    if length and int(length[1]):
        await reader.readexactly(int(length[1]))
    return int(head[9:12])


async def device_client(
    port: int, requests: list[bytes], statuses: list[int], keep_alive: bool
) -> None:
    """One connection sending its devices' fixes one after another, as a Traccar Client does
    (kept alive), or a new connection per fix."""
    connection = None
    for request in requests:
        if connection is None:
            connection = await asyncio.open_connection("127.0.0.1", port)
        reader, writer = connection
        writer.write(request)
        statuses.append(await read_answer(reader))
        if not keep_alive:
            writer.close()
            connection = None
    if connection is not None:
        connection[1].close()


def by_client(queries: list[str], clients: int) -> list[list[str]]:
    """Each device's fixes to one client, in order: a device never has two fixes in flight
    (a real one sends the next fix after the answer), so concurrent batches share no device
    and never wait for each other's row locks."""
    shares: list[list[str]] = [[] for _ in range(clients)]
    for query in queries:
        device = int(query[len("id=bench-") : query.index("&")])
        shares[device % clients].append(query)
    return [share for share in shares if share]


def bench_http(port: int, queries: list[str], clients: int, keep_alive: bool = False) -> float:
    """`clients` concurrent connections on one uvloop event loop in this process (a thread per
    client would cost the machine more CPU than the receiver); the wall clock of the run."""
    import uvloop

    statuses: list[int] = []

    async def run() -> None:
        await asyncio.gather(
            *(
                device_client(
                    port, [request_bytes(q, keep_alive) for q in share], statuses, keep_alive
                )
                for share in by_client(queries, clients)
            )
        )

    begin = time.perf_counter()
    uvloop.run(run())
    elapsed = time.perf_counter() - begin
    assert len(statuses) == len(queries) and set(statuses) == {200}, set(statuses)
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


PREFIX = "owntracks/bench"  # the phones are registered as bench/<i>
# Messages published and not yet stored. Mosquitto's default limits drop QoS 1 messages for a
# subscriber beyond 1,000; deploy/mosquitto.conf (the bench's own broker) raises them.
# More in flight makes Mosquitto slower, not faster (50,000: a quarter of the rate).
WINDOW_DEFAULT_BROKER, WINDOW = 500, 2000


class Broker:
    """A Mosquitto of the bench's own on a free port, with deploy/mosquitto.conf (what Haven
    asks of a production broker), else the machine's on 1883 with its default limits."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port, self.window, self.kind = 1883, WINDOW_DEFAULT_BROKER, "the machine's, defaults"
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            return
        port = free_port()
        wanted = (ROOT / "deploy" / "mosquitto.conf").read_text().splitlines()
        config = Path(tempfile.mkdtemp(prefix="haven-bench-mqtt-")) / "mosquitto.conf"
        config.write_text(
            "\n".join(
                [f"listener {port} 127.0.0.1", "allow_anonymous true"]
                + [line for line in wanted if not line.startswith(("persistence", "autosave"))]
                + ["persistence false", ""]
            )
        )
        self.process = subprocess.Popen(  # noqa: S603
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if wait_for_port(port):
            self.port, self.window, self.kind = port, WINDOW, "own, deploy/mosquitto.conf"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


def run_listener(
    url: str, data_dir: str, port: int, k: int, stored: Semaphore, ready: Event, stop: Event
) -> None:
    """One `haven telemetry listen --share bench` process: releases `stored` per message."""
    configure(url, data_dir)
    from haven.telemetry import services
    from haven.telemetry.batching import freeze_long_lived_objects
    from haven.telemetry.mqtt import Listener

    services.fence_index()  # before the clock starts, as the HTTP workers' warm-up requests do
    freeze_long_lived_objects()

    listener = Listener(
        topic=f"{PREFIX}/#",
        share="bench",
        port=port,
        client_id=f"bench-listener-{k}",
        persistent=False,
        on_stored=lambda topic, reply: stored.release(),
    )
    listener.start()
    assert listener.subscribed.wait(10), "MQTT broker not reachable"
    ready.set()
    stop.wait()
    listener.stop()
    print(f"    listener {k}: {listener.writer.batches:,} commits", flush=True)


def publish_fixes(
    points: list[tuple[float, float]],
    count: int,
    t0: int,
    broker: tuple[int, int],
    stored: Semaphore,
    ready: Event,
    go: Event,
) -> None:
    """The devices' side, in a process of its own: `count` OwnTracks fixes published QoS 1,
    at most `window` of them not yet stored; returns when all are."""
    import paho.mqtt.client as mqtt

    port, window = broker
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"benchpub-{os.getpid()}")
    publisher.max_inflight_messages_set(window)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    rng = random.Random(5)
    payloads = []
    for n in range(count):
        i = rng.randrange(DEVICES)
        lat, lon = points[i]
        fix = {"_type": "location", "lat": lat + rng.uniform(-0.0002, 0.0002), "lon": lon}
        fix.update(tst=t0 + n, acc=8, batt=70)
        payloads.append((f"{PREFIX}/{i}", json.dumps(fix)))
    ready.set()
    go.wait()
    waited = 0
    for n, (topic, payload) in enumerate(payloads):
        if n - waited >= window:
            assert stored.acquire(timeout=120), "MQTT messages went missing"
            waited += 1
        publisher.publish(topic, payload, qos=1)
    for _ in range(count - waited):
        assert stored.acquire(timeout=120), "MQTT messages went missing"
    publisher.loop_stop()
    publisher.disconnect()


def bench_mqtt(
    points: list[tuple[float, float]], count: int, t0: int, listeners: int, postgres: bool
) -> tuple[Meter, list[float], Broker]:
    """`listeners` listener processes (one share group) store what a publishing process
    sends; then alarm latency, one SOS at a time."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")  # not fork: this process runs threads
    stored, go, stop = spawn.Semaphore(0), spawn.Event(), spawn.Event()
    broker = Broker()
    url, data_dir = os.environ["HAVEN_DATABASE_URL"], os.environ["HAVEN_DATA_DIR"]
    receivers = []
    try:
        for k in range(listeners):
            ready = spawn.Event()
            process = spawn.Process(
                target=run_listener, args=(url, data_dir, broker.port, k, stored, ready, stop)
            )
            process.start()
            receivers.append(process)
            assert ready.wait(60), "MQTT broker not reachable"
        ready = spawn.Event()
        devices = spawn.Process(
            target=publish_fixes,
            args=(points, count, t0, (broker.port, broker.window), stored, ready, go),
        )
        devices.start()
        assert ready.wait(60), "the publishing process did not start"
        pids = [p.pid for p in receivers if p.pid]
        with Meter(cpu_of(pids), postgres) as meter:
            go.set()
            devices.join(300)
        assert devices.exitcode == 0, "MQTT messages went missing"
        latencies = mqtt_alarms(points, t0, broker.port, stored)
    finally:
        stop.set()
        for process in receivers:
            process.join(30)
        broker.stop()
    return meter, latencies, broker


def mqtt_alarms(
    points: list[tuple[float, float]], t0: int, port: int, stored: Semaphore
) -> list[float]:
    """SOS publish -> stored (its alert committed), one at a time, an hour late."""
    import paho.mqtt.client as mqtt

    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"benchsos-{os.getpid()}")
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    latencies = []
    for k in range(100):
        i = (k * 53) % DEVICES
        lat, lon = points[i]
        sos = {"_type": "location", "lat": lat, "lon": lon, "tst": t0 - 3600 + k, "alarm": "sos"}
        start = time.perf_counter()
        publisher.publish(f"{PREFIX}/{i}", json.dumps(sos), qos=1)
        assert stored.acquire(timeout=30)
        latencies.append(time.perf_counter() - start)
    publisher.loop_stop()
    publisher.disconnect()
    return latencies


# Messages per core of wall clock, per CPU-second of the whole machine, of the receiver alone.
Figures = tuple[float, float, float]


def in_process_figures(
    points: list[tuple[float, float]], n: int, t0: int, active: int, postgres: bool
) -> Figures:
    """Prints the in-process figures; returns the batched path's."""
    queries = fixes(points, n, t0, active)
    parse_s = bench_parse(queries)
    print(f"  baseline parse only        {rate(n, parse_s):>14}")
    from haven.telemetry import services

    begin = time.perf_counter()
    index = services.fence_index()
    # As the receivers' batch writer does once the index is built (batching._warm_up).
    from haven.telemetry.batching import freeze_long_lived_objects

    freeze_long_lived_objects()
    print(
        f"  fence index (STRtree)      {len(index):>8,} fences built in "
        f"{time.perf_counter() - begin:.2f} s"
    )
    first = [
        f"id=bench-{i}&lat={points[i][0]:.6f}&lon={points[i][1]:.6f}&timestamp={t0 - 1}&accuracy=5"
        for i in range(active)
    ]
    with Meter(time.process_time, postgres) as meter:
        bench_in_process_batched(first)
    print(
        f"  first contact (batched)    {meter.figures(active)}  ({active:,} devices: each "
        "enters its safe zone, one event per device)"
    )
    single = queries[: n // 4]
    with Meter(time.process_time, postgres) as meter:
        bench_in_process(single)
    print(f"  in-process, 1 per commit   {meter.figures(len(single))}")
    with Meter(time.process_time, postgres) as meter:
        bench_in_process_batched(queries[n // 4 :])
    batched = n - n // 4
    print(
        f"  in-process, 500 per commit {meter.figures(batched)}  "
        f"({meter.cpu / parse_s * n / batched:.1f}x parse time)"
    )
    with Meter(time.process_time, postgres) as resends:
        bench_in_process_batched(queries[n // 4 : n // 2])
    print(f"  resends (duplicates)       {resends.figures(n // 4)}")
    return meter.figures_for_goal(batched)


def http_figures(
    args: argparse.Namespace, points: list[tuple[float, float]], n: int, t0: int, active: int
) -> tuple[Figures, Figures]:
    """Prints the HTTP figures; returns (new connection per message, keep-alive)."""
    server, port = start_server(args.workers)
    kind = f"uvicorn, {max(args.workers, 1)} process(es)"
    try:
        http_queries = fixes(points, n, t0 + n + 1, active)
        # Warm up every worker (fence index, connections) with resends of earlier fixes.
        bench_http(port, fixes(points, 4 * args.clients, t0, active), clients=args.clients)
        tree = process_tree(server.pid)
        with Meter(cpu_of(tree), bool(args.postgres), load=True) as m:
            bench_http(port, http_queries, clients=args.clients)
        print(
            f"  loopback HTTP              {m.figures(n)}  ({kind}, {args.clients} clients, "
            "new connection per message)"
        )
        kept_queries = fixes(points, n, t0 + 2 * n + 1, active)
        with Meter(cpu_of(tree), bool(args.postgres), load=True) as kept:
            bench_http(port, kept_queries, clients=args.clients, keep_alive=True)
        print(f"  loopback HTTP, keep-alive  {kept.figures(n)}  (one connection per client)")
        alarm = bench_alarm_http(port, points, 200, t0 + 3 * n)
        print(
            f"  SOS -> alert over HTTP     p50 {percentile(alarm, 50) * 1000:6.1f} ms   "
            f"p99 {percentile(alarm, 99) * 1000:6.1f} ms   (200 alarms, 1 h late)"
        )
    finally:
        server.terminate()
        server.wait(10)
    return m.figures_for_goal(n), kept.figures_for_goal(n)


def mqtt_figures(
    points: list[tuple[float, float]], n: int, t0: int, listeners: int, postgres: bool
) -> Figures | None:
    try:
        mqtt_n = n // 2
        meter, mqtt_alarm, broker = bench_mqtt(points, mqtt_n, t0 + 5 * n, listeners, postgres)
    except (AssertionError, OSError) as error:
        print(f"  MQTT skipped: {error}")
        return None
    print(
        f"  MQTT QoS 1 (OwnTracks)     {meter.figures(mqtt_n)}  ({listeners} listener "
        f"process(es) in one share group; broker: {broker.kind}, {broker.window} in flight)"
    )
    print(
        f"  SOS -> alert over MQTT     p50 {percentile(mqtt_alarm, 50) * 1000:6.1f} ms   "
        f"p99 {percentile(mqtt_alarm, 99) * 1000:6.1f} ms   (100 alarms, 1 h late)"
    )
    return meter.figures_for_goal(mqtt_n)


# ------------------------------------------------------------------------------ Teltonika


def teltonika_records(
    points: list[tuple[float, float]], count: int, start: int, devices: int, sos: bool = False
) -> list[tuple[int, bytes]]:
    """(device index, one Codec 8 record) near home, one second apart, with ignition and
    external power IO; panic priority for an SOS."""
    import datetime as dt

    from haven.telemetry import teltonika

    rng = random.Random(start)
    records = []
    for n in range(count):
        i = n % devices
        lat, lon = points[i]
        records.append(
            (
                i,
                teltonika.encode_record(
                    teltonika.CODEC_8,
                    dt.datetime.fromtimestamp(start + n, dt.UTC),
                    lat=lat + rng.uniform(-0.0003, 0.0003),
                    lon=lon + rng.uniform(-0.0003, 0.0003),
                    io={239: 1, 240: 1, 66: 12_600},
                    priority=2 if sos else 0,
                    speed_kmh=12,
                ),
            )
        )
    return records


def teltonika_messages(records: list[tuple[int, bytes]]) -> list[object]:
    """The same records as the Messages the front would store (decoded here, not timed)."""
    from django.utils import timezone

    from haven.telemetry import teltonika
    from haven.telemetry.protocols import OsmAndOptions

    options = OsmAndOptions(now=timezone.now())
    messages = []
    for i, record in records:
        packet = teltonika.encode_packet(teltonika.CODEC_8, [record])
        [decoded] = teltonika.parse_packet(packet).records
        messages.append(teltonika.record_message(imei(i), decoded, options))
    return messages


def bare_ingest(messages: list[object], size: int = 500) -> float:
    from django.utils import timezone

    from haven.telemetry import services

    begin = time.perf_counter()
    for start in range(0, len(messages), size):
        outcomes = services.ingest_batch(messages[start : start + size], received_at=timezone.now())  # type: ignore[arg-type]
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    return time.perf_counter() - begin


def start_teltonika(workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    process = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).with_name("haven")),
            "telemetry",
            "serve-teltonika",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
    )
    # Django's setup and the first connections take long on a loaded machine: wait for it
    # (sending before it listens measured nothing but refused connections).
    if not wait_for_port(port, timeout_s=120.0):
        process.terminate()
        raise RuntimeError(f"serve-teltonika did not listen on {port} (exit {process.poll()})")
    return process, port


Link = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def teltonika_connect(port: int, device: int) -> Link:
    """One tracker's connection, its IMEI handshake accepted."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ident = imei(device).encode()
    writer.write(len(ident).to_bytes(2, "big") + ident)
    assert await reader.readexactly(1) == b"\x01", f"{imei(device)} refused"
    return reader, writer


async def teltonika_send(link: Link, packets: list[bytes]) -> list[float]:
    """Each packet after the previous one's acknowledgement. Returns each packet's send ->
    acknowledgement time."""
    reader, writer = link
    times = []
    for packet in packets:
        begin = time.perf_counter()
        writer.write(packet)
        assert int.from_bytes(await reader.readexactly(4), "big") == 1
        times.append(time.perf_counter() - begin)
    return times


def packets_by_device(records: list[tuple[int, bytes]]) -> dict[int, list[bytes]]:
    from haven.telemetry import teltonika

    by_device: dict[int, list[bytes]] = {}
    for i, record in records:
        by_device.setdefault(i, []).append(teltonika.encode_packet(teltonika.CODEC_8, [record]))
    return by_device


def bench_teltonika(port: int, records: list[tuple[int, bytes]]) -> list[float]:
    """Each tracker connects, sends its records, and hangs up."""
    import uvloop

    async def run() -> list[list[float]]:
        async def device(i: int, packets: list[bytes]) -> list[float]:
            link = await teltonika_connect(port, i)
            try:
                return await teltonika_send(link, packets)
            finally:
                link[1].close()

        return await asyncio.gather(
            *(device(i, packets) for i, packets in packets_by_device(records).items())
        )

    return [t for times in uvloop.run(run()) for t in times]


def bench_teltonika_fleet(
    port: int,
    first: list[tuple[int, bytes]],
    steady: list[tuple[int, bytes]],
    receiver: list[int],
    postgres: bool,
) -> tuple[Meter, Meter]:
    """Every tracker connects and sends its first record (metered: first contact), then, on the
    same connections, the steady stream (metered apart: a tracker stays connected for hours,
    so its handshake and the receiver's first look at it are not a cost of every record)."""
    import uvloop

    contact = Meter(cpu_of(receiver), postgres, load=True)
    front = Meter(cpu_of(receiver), postgres, load=True)
    first_packets, steady_packets = packets_by_device(first), packets_by_device(steady)

    async def run() -> None:
        async def contact_device(i: int) -> Link:
            link = await teltonika_connect(port, i)
            await teltonika_send(link, first_packets[i])
            return link

        with contact:
            links = dict(
                zip(
                    first_packets,
                    await asyncio.gather(*map(contact_device, first_packets)),
                    strict=True,
                )
            )
        with front:
            await asyncio.gather(
                *(teltonika_send(links[i], packets) for i, packets in steady_packets.items())
            )
        for _, writer in links.values():
            writer.close()

    uvloop.run(run())
    return contact, front


WARM_TRACKERS = 32  # outside the fleet: one record each warms every worker up (see above)


def teltonika_figures(
    points: list[tuple[float, float]],
    n: int,
    t0: int,
    clients: int,
    postgres: bool,
    workers: int,
) -> Figures:
    """Teltonika TCP front against the same run's bare ingest: messages/s, SOS -> alert p99.
    Returns the front's figures for the goal."""
    devices = min(clients, DEVICES)
    warm = teltonika_records(points, devices, t0, devices)  # every tracker's first fix
    bare_ingest(teltonika_messages(warm))
    baseline_messages = teltonika_messages(teltonika_records(points, n, t0 + 1, devices))
    with Meter(time.process_time, postgres) as bare:
        bare_ingest(baseline_messages)
    server, port = start_teltonika(workers)
    try:
        # One record from each of 32 trackers outside the measured fleet, acknowledged once
        # the writer that took it has built its fence index (the HTTP workers are warmed up the
        # same way): otherwise the first contact would be metered with start-up in it.
        [(_, record)] = teltonika_records(points, 1, t0, 1)
        bench_teltonika(port, [(DEVICES - 1 - k, record) for k in range(WARM_TRACKERS)])
        receiver = process_tree(server.pid)
        # As the baseline's: every tracker's first record first (then its steady stream).
        first = teltonika_records(points, devices, t0 + n + 1, devices)
        steady = teltonika_records(points, n, t0 + n + devices + 1, devices)
        contact, front = bench_teltonika_fleet(port, first, steady, receiver, postgres)
        sos = teltonika_records(points, 200, t0 + 2 * n + devices + 1, 200, sos=True)
        alarm = []
        for record in sos:  # one at a time: latency, not throughput
            alarm += bench_teltonika(port, [record])
    finally:
        server.terminate()
        server.wait(10)
    bare_alarm = bare_sos_latencies(points, t0 + 3 * n + devices + 1)
    print(f"  bare ingest (500/commit)   {bare.figures(n)}")
    print(
        f"  Teltonika first contact    {contact.figures(devices)}  ({devices} trackers: "
        "connect, IMEI handshake, first record)"
    )
    print(
        f"  Teltonika TCP              {front.figures(n)}  ({devices} trackers, connected; "
        f"{workers} worker(s), {len(receiver)} receiver processes)"
    )
    left = CORES - front.others / front.wall
    print(
        f"  Teltonika TCP per core left to it  {n / front.wall / max(left, 1e-9):,.0f} msg/s "
        f"(messages/s over the {left:.2f} of {CORES} cores other processes left it; not "
        "judged: it shows whether a low wall-clock reading is the other jobs' doing)"
    )
    figure, baseline = n / front.wall, n / bare.wall
    print(
        f"  Teltonika TCP msg/s        goal >= {GOAL:,}/core  figure {figure:,.0f} msg/s "
        f"({figure / CORES:,.0f}/core, {front.per_cpu(n):,.0f}/receiver CPU-s)  baseline bare "
        f"ingest {baseline:,.0f} msg/s ({bare.per_cpu(n):,.0f}/CPU-s)  ratio "
        f"{figure / baseline:.2f}  ({devices} trackers, "
        f"1 record per packet, {workers} worker(s))"
    )
    p99, base_p99 = percentile(alarm, 99) * 1000, percentile(bare_alarm, 99) * 1000
    print(
        f"  Teltonika SOS -> alert p99 goal < 100 ms  figure {p99:.1f} ms (p50 "
        f"{percentile(alarm, 50) * 1000:.1f})  baseline bare ingest {base_p99:.1f} ms  "
        f"ratio {p99 / base_p99:.2f}  (200 alarms, acknowledged after commit)"
    )
    from benchkit import result

    result(
        f"telemetry (Teltonika TCP, per core wall, {devices} trackers)",
        f">= {GOAL:,} msg/s per core",
        f"{figure / CORES:,.0f} msg/s",
        f"{baseline / CORES:,.0f} msg/s (bare ingest, same run)",
        figure / baseline,
        figure / CORES >= GOAL,
    )
    result(
        "telemetry (Teltonika SOS -> committed alert p99)",
        "< 100 ms",
        f"{p99:.1f} ms",
        f"{base_p99:.1f} ms (bare ingest, same run)",
        p99 / base_p99,
        p99 < 100,
    )
    return front.figures_for_goal(n)


def bare_sos_latencies(points: list[tuple[float, float]], start: int) -> list[float]:
    from django.utils import timezone

    from haven.telemetry import services

    latencies = []
    for message in teltonika_messages(teltonika_records(points, 200, start, 200, sos=True)):
        begin = time.perf_counter()
        result = services.ingest(message, received_at=timezone.now())  # type: ignore[arg-type]
        latencies.append(time.perf_counter() - begin)
        assert result.alerts, "an SOS must alert"
    return latencies


def main() -> None:
    from benchkit import add_database_options, bench_database

    from haven.runtime.parts import default_teltonika_workers

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--active", type=int, default=2_000, help="devices sending (steady)")
    add_database_options(parser, BENCH_DB)
    parser.add_argument(
        "--workers", type=int, default=CORES, help="uvicorn processes (0 or 1: one)"
    )
    parser.add_argument(
        "--clients", type=int, default=1000, help="HTTP connections sending at once"
    )
    parser.add_argument(
        "--listeners", type=int, default=CORES, help="MQTT listener processes (one share group)"
    )
    parser.add_argument(
        "--teltonika-workers",
        type=int,
        default=default_teltonika_workers(),
        help="serve-teltonika --workers (default: haven up's, one per core, at least 2)",
    )
    parser.add_argument(
        "--only", choices=["teltonika"], default="", help="run only this front (and its baseline)"
    )
    args = parser.parse_args()
    global bench_db
    bench_db = args.database
    with bench_database(args, "telemetry") as url:
        measure(args, url)


def measure(args: argparse.Namespace, url: str) -> None:
    configure(url, os.environ["HAVEN_DATA_DIR"])
    from django.db import connection

    points = homes()
    setup = time.perf_counter()
    populate(points)
    print(
        f"Telemetry bench on {connection.vendor}, {CORES} cores; {DEVICES:,} devices, "
        f"{DEVICES:,} geofences (setup {time.perf_counter() - setup:.1f} s)"
    )
    t0 = int(time.time()) - 10 * 86400
    n = args.messages
    active = min(DEVICES, args.active)
    postgres = bool(args.postgres)
    if args.only == "teltonika":
        telt = teltonika_figures(points, n, t0, args.clients, postgres, args.teltonika_workers)
        print_goal({"Teltonika TCP": telt})
        return
    batched = in_process_figures(points, n, t0, active, postgres)  # first: devices meet fences
    http_new, http_kept = http_figures(args, points, n, t0, active)
    paths: dict[str, Figures | None] = {
        "in-process batched": batched,
        "HTTP, new connection": http_new,
        "HTTP, keep-alive": http_kept,
        "MQTT": mqtt_figures(points, n, t0, args.listeners, postgres),
        "Teltonika TCP": teltonika_figures(
            points, n, t0 + 10 * n, args.clients, postgres, args.teltonika_workers
        ),
    }

    from haven.telemetry.models import Alert, Event, Position

    print(
        f"  stored: {Position.objects.count():,} positions, {Event.objects.count():,} events, "
        f"{Alert.objects.count():,} alerts"
    )
    print_goal(paths)
    print_result(paths["in-process batched"], bench_parse(fixes(points, n, t0, active)), n)


def print_result(batched: Figures | None, parse_s: float, n: int) -> None:
    """The RESULT line: the batched path per CPU-second of the receiver against parsing alone
    (the ceiling for the same input, same run)."""
    from benchkit import result

    if batched is None:
        return
    parse_rate = n / parse_s
    result(
        "telemetry (in-process batched, per receiver CPU-s)",
        f">= {GOAL:,} msg/s per core",
        f"{batched[2]:,.0f} msg/s",
        f"{parse_rate:,.0f} msg/s (parse only, same run)",
        batched[2] / parse_rate,
        batched[2] >= GOAL,
    )


def print_goal(paths: dict[str, Figures | None]) -> None:
    """The goal under three readings of "per core": messages/s over all the machine's cores
    (wall clock: idle time counts against it, and the database, the broker and the bench's
    own senders share the cores), messages per CPU-second the whole machine spent (all of
    those included, idle time not), and messages per CPU-second of the receiver alone."""
    print(
        f"  goal >= {GOAL:,} msg/s per core (ratio to goal: per core wall | per machine CPU-s "
        "| per receiver CPU-s)"
    )
    for what, figures in paths.items():
        if figures is None:
            print(f"    {what:<22} not measured")
            continue
        verdicts = [
            f"{value:>6,.0f} {'met' if value >= GOAL else 'NOT met':<7} ({value / GOAL:.2f}x)"
            for value in figures
        ]
        print(f"    {what:<22} {'  |  '.join(verdicts)}")


if __name__ == "__main__":
    main()

"""Benchmark: alarm -> committed alert while geofences change every second (30,000 fences).

The receivers' own path in this process: a telemetry BatchWriter (its writer thread, its fence
index warmed up as `haven up` does it) stores one SOS at a time, and the time is taken from
handing the message over to the future that resolves after the commit of its alert. The fence
index refreshes in the background (HAVEN_FENCE_BACKGROUND on, as in production).

  baseline   the same alarms with no fence changing (same run, same database)
  churn      the same alarms while a thread of its own changes one fence a second through
             services.update_geofence (a device's safe zone grows or shrinks: applied to the
             index incrementally), and every --delete-every seconds deletes a fence outright
             (no version moves, so the receiver's count disagrees and it rebuilds all of them
             in the background, from plain rows)

Prints p50 / p99 / max of both, how many incremental changes and whole rebuilds the receiver
made during the churn phase, what one whole rebuild costs, and a RESULT line: churn p99 against
the goal (< 100 ms), with the baseline p99 and the ratio. Runs on a temporary SQLite file, or on
PostgreSQL with --postgres URL (database --database, created and dropped).

Run:  .venv/bin/python bench/fence_churn.py [--fences 30000] [--devices 1000] [--seconds 30]
      [--alarms 300] [--postgres URL --database NAME]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
GOAL_MS = 100.0
LAT0, LON0 = 51.3, -0.5  # a 0.4 x 0.8 degree area (London-sized)


def configure() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "haven.settings_test"
    os.environ["HAVEN_FENCE_BACKGROUND"] = "1"  # as in production: looks off the alarm path
    sys.path[:0] = [str(ROOT)]
    import django

    django.setup()


def populate(fences: int, devices: int) -> tuple[list[object], list[tuple[float, float]], object]:
    """``devices`` panic alarms, each with its safe zone at home; the rest of the ``fences``
    are zones of deployments none of them is fitted on (in the index, never applying)."""
    from django.core.management import call_command
    from tests.factories import UserFactory

    from haven.accounts.roles import Role
    from haven.telemetry.models import Geofence, TelemetryDevice

    call_command("migrate", verbosity=0)
    supervisor = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR], username="bench-supervisor")
    rng = random.Random(7)
    homes = [(LAT0 + rng.random() * 0.4, LON0 + rng.random() * 0.8) for _ in range(devices)]
    rows = [
        TelemetryDevice(device_id=f"alarm-{i}", name=f"Alarm {i}", kind="panic_alarm")
        for i in range(devices)
    ]
    TelemetryDevice.objects.bulk_create(rows, batch_size=2000)
    zones = [
        Geofence(
            name=f"Home {i}",
            kind="safe",
            area={"circle": {"lat": lat, "lon": lon, "radius_m": 150 + rng.random() * 150}},
            device=device,
        )
        for i, (device, (lat, lon)) in enumerate(zip(rows, homes, strict=True))
    ]
    for i in range(max(0, fences - devices)):
        lat, lon = LAT0 + rng.random() * 0.4, LON0 + rng.random() * 0.8
        zones.append(
            Geofence(
                name=f"Zone {i}",
                kind="exclusion",
                area={"circle": {"lat": lat, "lon": lon, "radius_m": 50 + rng.random() * 250}},
                deployment_id=uuid.uuid4(),
            )
        )
    Geofence.objects.bulk_create(zones, batch_size=2000)
    return rows, homes, supervisor


class Churn(threading.Thread):
    """One fence changed a second (a safe zone resized through the service); every
    ``delete_every`` seconds one fence deleted outright instead."""

    def __init__(self, devices: list[object], supervisor: object, delete_every: int) -> None:
        super().__init__(name="fence-churn", daemon=True)
        self.devices, self.supervisor, self.delete_every = devices, supervisor, delete_every
        self.stopping = threading.Event()
        self.changes = self.deletions = 0

    def run(self) -> None:
        from django.db import connection

        from haven.telemetry import services
        from haven.telemetry.models import Geofence

        rng = random.Random(13)
        tick = 0
        try:
            while not self.stopping.wait(1.0):
                tick += 1
                if self.delete_every and tick % self.delete_every == 0:
                    victim = Geofence.objects.filter(deployment_id__isnull=False).first()
                    if victim is not None:
                        victim.delete()
                        self.deletions += 1
                    continue
                device = rng.choice(self.devices)
                zone = Geofence.objects.get(device=device, active=True)
                circle = zone.area["circle"]
                services.update_geofence(
                    self.supervisor,  # type: ignore[arg-type]
                    zone.pk,
                    version=zone.version,
                    name=zone.name,
                    kind=zone.kind,
                    area=services.fence_area(
                        lat=circle["lat"], lon=circle["lon"], radius_m=150 + rng.random() * 150
                    ),
                    device=device,  # type: ignore[arg-type]
                )
                self.changes += 1
        finally:
            connection.close()


def alarms(
    writer: object, homes: list[tuple[float, float]], count: int, seconds: float, start: int
) -> list[float]:
    """``count`` SOS, one at a time, spread over ``seconds``: each handed to the writer and
    timed until its batch (with the alert) has committed. Returns the latencies in ms."""
    import datetime as dt

    from django.utils import timezone

    from haven.telemetry.protocols import Message

    spacing = seconds / count
    latencies = []
    began = time.perf_counter()
    for k in range(count):
        i = (start + k) % len(homes)
        lat, lon = homes[i]
        message = Message(
            device_id=f"alarm-{i}",
            protocol="osmand-form",
            fix_time=timezone.now() - dt.timedelta(milliseconds=1),
            lat=lat,
            lon=lon,
            accuracy=5,
            alarms=("sos",),
        )
        sent = time.perf_counter()
        outcome = writer.submit(message, timezone.now()).result(60)  # type: ignore[attr-defined]
        latencies.append((time.perf_counter() - sent) * 1000)
        assert outcome.alerts, "an SOS must alert"
        pause = began + (k + 1) * spacing - time.perf_counter()
        if pause > 0:
            time.sleep(pause)  # paced, like alarms arriving: not a measured interval
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50):7.1f} ms  p99 {percentile(values, 99):7.1f} ms  "
        f"max {max(values):7.1f} ms  ({len(values)} alarms)"
    )


def measure(args: argparse.Namespace) -> None:
    configure()
    from benchkit import result
    from django.db import connection

    from haven.telemetry import fence_index, services
    from haven.telemetry.batching import BatchWriter

    setup = time.perf_counter()
    devices, homes, supervisor = populate(args.fences, args.devices)
    print(
        f"Fence churn bench on {connection.vendor}, {os.cpu_count()} cores (shared machine: "
        f"figures are noisy); {args.fences:,} fences, {args.devices:,} alarm devices "
        f"(setup {time.perf_counter() - setup:.1f} s)"
    )
    begin = time.perf_counter()
    fence_index.KEEPER.rebuild()
    print(
        f"  one whole rebuild (plain rows, bulk opener): {time.perf_counter() - begin:.2f} s "
        f"for {len(services.fence_index()):,} fences, in the background while alarms go on"
    )
    writer = BatchWriter()
    writer.start()
    try:
        quiet = alarms(writer, homes, args.alarms, args.seconds, 0)
        print(f"  baseline (no fence changes)  {summary(quiet)}")
        keeper = fence_index.KEEPER
        rebuilds, increments = keeper.rebuilds, keeper.increments
        churn = Churn(devices, supervisor, args.delete_every)
        churn.start()
        try:
            busy = alarms(writer, homes, args.alarms, args.seconds, args.alarms)
        finally:
            churn.stopping.set()
            churn.join(30)
        keeper.wait(60)
        print(f"  fences changing every second {summary(busy)}")
        print(
            f"  churn: {churn.changes} zones changed, {churn.deletions} deleted outright; "
            f"receiver: {keeper.increments - increments} incremental changes, "
            f"{keeper.rebuilds - rebuilds} whole rebuilds (background)"
        )
    finally:
        writer.stop()
    figure, baseline = percentile(busy, 99), percentile(quiet, 99)
    result(
        f"fence_churn (alarm -> committed alert p99, {args.fences:,} fences changing 1/s)",
        f"< {GOAL_MS:.0f} ms",
        f"{figure:.1f} ms",
        f"{baseline:.1f} ms (no fence changes, same run)",
        figure / baseline,
        figure < GOAL_MS,
    )


def main() -> None:
    from benchkit import add_database_options, bench_database

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fences", type=int, default=30_000)
    parser.add_argument("--devices", type=int, default=1_000, help="alarm devices (safe zones)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--alarms", type=int, default=300, help="alarms in each phase")
    parser.add_argument(
        "--delete-every", type=int, default=10, help="delete a fence outright every N s (0: never)"
    )
    add_database_options(parser, "haven_bench_fence_churn")
    args = parser.parse_args()
    with bench_database(args, "fence-churn"):
        measure(args)


if __name__ == "__main__":
    main()

"""Benchmark: alarm -> first page. N SOS alarms through the OsmAnd receiver, each paging step 1
of the default escalation policy (the on-call technician of a one-layer rota) by e-mail to a
real local SMTP server (aiosmtpd) this bench starts.

Figures (p50 / p99, one alarm at a time):
  baseline  bare ingest: receivers.receive_osmand of a plain fix (no alarm), to its answer
  paging    receivers.receive_osmand of an SOS, to the page handed to the channel (the SMTP
            server has the message): store + alert + policy + notification + delivery
Delivery runs in-process after commit (django-tasks' immediate backend, as in the tests); with
`haven up` the job worker's polling interval comes on top.
Goal: paging p99 < 1 s.

Runs on a temporary SQLite file, or PostgreSQL with --postgres URL (database --database, default
haven_bench_alarm_paging, on that server, created and dropped).

Run:  .venv/bin/python bench/alarm_paging.py [--alarms 200] [--postgres URL] [--database NAME]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
BENCH_DB = "haven_bench_alarm_paging"
GOAL_P99_S = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def configure(url: str, data_dir: str, smtp_port: int) -> None:
    os.environ.update(
        HAVEN_DATABASE_URL=url,
        HAVEN_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="haven.settings_test",
        HAVEN_EMAIL_HOST="127.0.0.1",
        HAVEN_EMAIL_PORT=str(smtp_port),
    )
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    import django

    django.setup()


def populate(alarms: int) -> None:
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone
    from tests.factories import UserFactory

    from haven.accounts.roles import Role
    from haven.notifications.models import ContactMethod
    from haven.rota import services as rota_services
    from haven.telemetry import services
    from haven.telemetry.models import TargetKind, TelemetryDevice

    call_command("migrate", verbosity=0)
    boss = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR], username="bench-supervisor")
    tech = UserFactory(roles=[Role.TECHNICAL_OFFICER], username="bench-technician")
    ContactMethod.objects.create(
        user=tech, channel="email", address="tech@example.org", verified_at=timezone.now()
    )
    rota = rota_services.create_rota(
        boss, name="Bench on call", starts_on=timezone.localdate() - dt.timedelta(days=2)
    )
    rota_services.add_layer(
        boss, rota.pk, name="Only", members=[tech], handover_time=dt.time(8), rotation="daily"
    )
    policy = services.create_policy(boss, name="Bench", is_default=True)
    services.add_step(
        boss,
        policy.pk,
        delay_seconds=300,
        targets=[services.TargetSpec(TargetKind.ON_CALL, rota_name="Bench on call")],
    )
    # One device per alarm: the receiver refuses a flood from one device.
    TelemetryDevice.objects.bulk_create(
        [
            TelemetryDevice(device_id=f"bench-{kind}-{i}", name=f"{kind} {i}", kind=model_kind)
            for i in range(alarms)
            for kind, model_kind in (("alarm", "panic_alarm"), ("plain", "phone"))
        ]
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(alarms: int, inbox: list[object]) -> tuple[list[float], list[float]]:
    from haven.telemetry import receivers

    t0 = int(time.time()) - 10 * alarms
    baseline: list[float] = []
    paging: list[float] = []
    for i in range(alarms):
        plain = f"id=bench-plain-{i}&lat=51.5&lon=-0.1&timestamp={t0 + i}"
        start = time.perf_counter()
        reply = receivers.receive_osmand(query_string=plain, content_type="", body=b"")
        baseline.append(time.perf_counter() - start)
        assert reply.status == 200, reply
        sos = f"id=bench-alarm-{i}&lat=51.5&lon=-0.1&timestamp={t0 + i}&alarm=sos"
        before = len(inbox)
        start = time.perf_counter()
        reply = receivers.receive_osmand(query_string=sos, content_type="", body=b"")
        while len(inbox) == before:  # the SMTP server's thread appends the page
            time.sleep(0.0005)
        paging.append(time.perf_counter() - start)
        assert reply.status == 200, reply
    return baseline, paging


def main() -> None:
    from benchkit import add_database_options, bench_database, result, vendor

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alarms", type=int, default=200)
    add_database_options(parser, BENCH_DB)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    inbox: list[object] = []

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            inbox.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with bench_database(args, "paging") as url:
            configure(url, os.environ["HAVEN_DATA_DIR"], port)
            populate(args.alarms)
            baseline, paging = run(args.alarms, inbox)
    finally:
        controller.stop()
    b50, b99 = percentile(baseline, 50), percentile(baseline, 99)
    p50, p99 = percentile(paging, 50), percentile(paging, 99)
    print(f"{args.alarms} alarms, {vendor(url)}: p50 {p50 * 1e3:.1f} ms (bare {b50 * 1e3:.1f} ms)")
    result(
        "alarm_paging",
        f"alarm->first page p99 < {GOAL_P99_S:.0f} s",
        f"p99 {p99 * 1000:.1f} ms",
        f"p99 {b99 * 1000:.1f} ms (bare ingest, same run)",
        p99 / b99,
        p99 < GOAL_P99_S,
    )


if __name__ == "__main__":
    main()

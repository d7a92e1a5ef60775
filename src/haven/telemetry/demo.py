"""Synthetic demo data for alerts: a default escalation policy, so that an SOS on the demo pages
the on-call technician at once and escalates to the supervisors (even on a one-layer rota); and
working trackers with zones and a short recorded drive, for the map and route replay.

The places are made up: open country in the middle of England, no real address."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from haven.accounts.models import User

from . import services
from .models import EscalationPolicy, FenceKind, Geofence, TargetKind
from .protocols import Message

DEMO_ROTA = "Technical support on call (demo)"
DEMO_POLICY = "Technical support (demo)"


def create_demo_policy(boss: User) -> None:
    if EscalationPolicy.objects.filter(name=DEMO_POLICY).exists():
        return
    policy = services.create_policy(
        boss,
        name=DEMO_POLICY,
        description="On call first, then every technical supervisor; twice more if unanswered",
        repeat=2,
        is_default=True,
    )
    services.add_step(
        boss,
        policy.pk,
        delay_seconds=5 * 60,
        targets=[services.TargetSpec(TargetKind.ON_CALL, rota_name=DEMO_ROTA)],
    )
    services.add_step(
        boss,
        policy.pk,
        delay_seconds=5 * 60,
        targets=[services.TargetSpec(TargetKind.SUPERVISORS)],
    )


# A fictional home, a fictional depot, and the lane between them (about 3 km).
DEMO_HOME = (52.9512, -1.4903)
DEMO_DEPOT = (52.9755, -1.4702)
DEMO_HOME_ZONE = "Safe zone around the protected home (demo)"
DEMO_DEPOT_ZONE = "Exclusion zone: suspect's yard (demo)"


def create_demo_tracking(tech: User) -> None:
    """The demo's registered trackers (the equipment register made them) get zones and, for
    demo-tracker-1, an hour-old recorded drive. Safe to run twice."""
    if Geofence.objects.filter(name=DEMO_HOME_ZONE).exists():
        return
    alarm = services.find_device("demo-panic-1")
    tracker = services.find_device("demo-tracker-1")
    if alarm is None or tracker is None:
        return
    alarm = services.update_device(
        tech,
        alarm.pk,
        version=alarm.version,
        name="Panic button, protected home (demo)",
        protects_person=True,
        asset_id=alarm.asset_id,
    )
    services.create_geofence(
        tech,
        name=DEMO_HOME_ZONE,
        kind=FenceKind.SAFE,
        area=services.fence_area(lat=DEMO_HOME[0], lon=DEMO_HOME[1], radius_m=250),
        device=alarm,
        dwell_s=60,
    )
    services.create_geofence(
        tech,
        name=DEMO_DEPOT_ZONE,
        kind=FenceKind.EXCLUSION,
        area=services.fence_area(
            points=[
                (DEMO_DEPOT[0] - 0.001, DEMO_DEPOT[1] - 0.0015),
                (DEMO_DEPOT[0] - 0.001, DEMO_DEPOT[1] + 0.0015),
                (DEMO_DEPOT[0] + 0.001, DEMO_DEPOT[1] + 0.0015),
                (DEMO_DEPOT[0] + 0.001, DEMO_DEPOT[1] - 0.0015),
            ]
        ),
        dwell_s=30,
    )
    _record_drive(tracker.device_id)


def _record_drive(device_id: str) -> None:
    """Parked at the home for ten minutes, a five-minute drive towards the depot that stops
    short of its yard, parked again: one trip between two stops in the replay."""
    start = timezone.now() - dt.timedelta(hours=1)
    fixes: list[tuple[float, float, float]] = [(*DEMO_HOME, 0.0)] * 20  # every 30 s
    steps = 30
    for step in range(1, steps + 1):  # every 10 s at about 9 m/s
        share = 0.9 * step / steps
        fixes.append(
            (
                DEMO_HOME[0] + (DEMO_DEPOT[0] - DEMO_HOME[0]) * share,
                DEMO_HOME[1] + (DEMO_DEPOT[1] - DEMO_HOME[1]) * share,
                9.0,
            )
        )
    fixes += [fixes[-1][:2] + (0.0,)] * 20
    at = start
    messages = []
    for number, (lat, lon, speed) in enumerate(fixes):
        at += dt.timedelta(seconds=10 if 20 <= number < 20 + steps else 30)
        messages.append(
            Message(
                device_id=device_id,
                protocol="demo",
                fix_time=at,
                lat=lat,
                lon=lon,
                accuracy=8.0,
                speed_mps=speed,
                battery=87.0,
            )
        )
    services.ingest_batch(messages)

"""Builders for telemetry tests (devices, fences, an on-call rota)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.telemetry import services
from haven.telemetry.models import DeviceKind, Geofence, TelemetryDevice
from haven.telemetry.protocols import Message
from tests.factories import UserFactory

_counter = {"n": 0}


def make_device(**kwargs: Any) -> TelemetryDevice:
    _counter["n"] += 1
    values: dict[str, Any] = {
        "device_id": f"dev-{_counter['n']}",
        "name": f"Tracker {_counter['n']}",
        "kind": DeviceKind.VEHICLE_TRACKER,
    }
    values.update(kwargs)
    return services.register_device(None, **values)


def make_circle(
    device: TelemetryDevice | None, lat: float, lon: float, radius_m: float, kind: str = "safe"
) -> Geofence:
    return services.create_geofence(
        None,
        name=f"{kind} zone",
        kind=kind,
        area=services.fence_area(lat=lat, lon=lon, radius_m=radius_m),
        device=device,
        dwell_s=0,
    )


def message(device: TelemetryDevice, **kwargs: Any) -> Message:
    values: dict[str, Any] = {
        "device_id": device.device_id,
        "protocol": "osmand-form",
        "fix_time": timezone.now(),
    }
    values.update(kwargs)
    return Message(**values)


def make_rota(
    *people: User, name: str = "Tracking on-call", supervisor: User | None = None
) -> tuple[str, User]:
    """A rota with one layer per person, the first person at the highest priority."""
    from haven.rota import services as rota_services

    supervisor = supervisor or UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    start = timezone.localdate() - dt.timedelta(days=2)
    rota = rota_services.create_rota(supervisor, name=name, starts_on=start)
    for number, person in enumerate(people):
        rota_services.add_layer(
            supervisor,
            rota.pk,
            name=f"Level {number + 1}",
            members=[person],
            handover_time=dt.time(8, 0),
            rotation="daily",
            priority=len(people) - number,
        )
    return rota.name, supervisor

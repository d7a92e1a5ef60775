"""Telemetry access rules for the access matrix (tests/access/test_access_matrix.py).

- Alerts (list, detail, live table), devices: the operations module.
- Acknowledge: technical supervisors, or a technical officer the alert was routed to ("inside":
  the inside alert is routed to the matrix's technical officer through an on-call rota).
- Trips/stops report: operations for a device that protects nobody ("inside"); a device that
  protects a person ("outside") only for supervisors and people its alerts reached.
- Device receivers: anyone (devices have no account); they answer 400 to the empty requests.
"""

from __future__ import annotations

from typing import Any

from haven.accounts.roles import Module, Role
from haven.telemetry import services
from haven.telemetry.protocols import Message
from tests.access.rules import Actor, Rule, anyone, module, role

operations: Rule = module(Module.OPERATIONS)
supervisors: Rule = role(Role.TECHNICAL_SUPERVISOR)


def acknowledger(actor: Actor, inside: bool) -> bool:
    user = actor.user
    return user.has_role(Role.TECHNICAL_SUPERVISOR) or (
        inside and user.has_role(Role.TECHNICAL_OFFICER)
    )


def position_reader(actor: Actor, inside: bool) -> bool:
    user = actor.user
    return user.can_use(Module.OPERATIONS) and (inside or user.has_role(Role.TECHNICAL_SUPERVISOR))


WEB_POLICY: dict[str, Rule] = {
    "telemetry:home": operations,
    "telemetry:live": operations,
    "telemetry:devices": operations,
    "telemetry:detail": operations,
    "telemetry:acknowledge": acknowledger,
    "telemetry:resolve": acknowledger,
    "telemetry:policies": operations,
    "telemetry:policy": operations,
    "telemetry:policy_new": supervisors,
    "telemetry:policy_edit": supervisors,
    "telemetry:policy_step_add": supervisors,
    "telemetry:policy_step_remove": supervisors,
    "telemetry:policy_assign": supervisors,
    "telemetry:policy_unassign": supervisors,
    "telemetry:device_report": position_reader,
    # The register (no positions in it): every technical role. Zones and routes show where a
    # device goes: like positions ("outside": the zone of a device that protects a person).
    "telemetry:device_new": operations,
    "telemetry:device_edit": operations,
    "telemetry:device_retire": operations,
    "telemetry:device_route": position_reader,
    "telemetry:geofences": operations,
    "telemetry:geofence_new": operations,
    "telemetry:geofence_edit": position_reader,
    "telemetry:geofence_retire": position_reader,
    "telemetry:map": operations,
    "telemetry:map_positions": operations,
    "telemetry:device_export": position_reader,
    "receivers:osmand": anyone,
    "receivers:owntracks": anyone,
}

# Reached without a session: devices have no account (the matrix's anonymous and password-only
# visitors are judged by the rule, as everyone is).
SESSIONLESS = {"receivers:osmand", "receivers:owntracks"}

API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/telemetry/alerts"): operations,
    ("GET", "/api/telemetry/alerts/{alert_id}"): operations,
    ("POST", "/api/telemetry/alerts/{alert_id}/acknowledge"): acknowledger,
    ("GET", "/api/telemetry/devices"): operations,
    ("POST", "/api/telemetry/alerts/{alert_id}/resolve"): acknowledger,
    ("GET", "/api/telemetry/policies"): operations,
    ("GET", "/api/telemetry/policies/{policy_id}"): operations,
    ("POST", "/api/telemetry/policies"): supervisors,
    ("PUT", "/api/telemetry/policies/{policy_id}"): supervisors,
    ("POST", "/api/telemetry/policies/{policy_id}/steps"): supervisors,
    ("DELETE", "/api/telemetry/policies/{policy_id}/steps/{policy_step_id}"): supervisors,
    ("POST", "/api/telemetry/policies/{policy_id}/assignments"): supervisors,
    ("POST", "/api/telemetry/devices"): operations,
    ("PUT", "/api/telemetry/devices/{device_pk}"): operations,
    ("POST", "/api/telemetry/devices/{device_pk}/retire"): operations,
    ("GET", "/api/telemetry/devices/{device_pk}/route"): position_reader,
    ("GET", "/api/telemetry/zones"): operations,
    ("POST", "/api/telemetry/zones"): operations,
    ("GET", "/api/telemetry/zones/{fence_id}"): position_reader,
    ("PUT", "/api/telemetry/zones/{fence_id}"): position_reader,
    ("POST", "/api/telemetry/zones/{fence_id}/retire"): position_reader,
    ("GET", "/api/telemetry/positions"): operations,
    ("POST", "/api/telemetry/devices/{device_pk}/export"): position_reader,
}


def _pick(kind: str) -> Any:
    return lambda world, inside: str(
        world[f"telemetry_{'inside' if inside else 'outside'}_{kind}"].pk
    )


PARAMS = {
    "alert_id": _pick("alert"),
    "device_pk": _pick("device"),
    "policy_id": _pick("policy"),
    "policy_step_id": _pick("step"),
    "fence_id": _pick("fence"),
}

ZONE = {"name": "Matrix zone", "kind": "safe", "circle": {"lat": 51.5, "lon": -0.1, "radius_m": 99}}

SAMPLE_PAYLOADS = {
    ("POST", "/api/telemetry/devices"): lambda world: {
        "device_id": "matrix-new",
        "name": "Matrix new tracker",
        "kind": "vehicle_tracker",
    },
    ("PUT", "/api/telemetry/devices/{device_pk}"): lambda world: {
        "name": "Matrix renamed tracker",
        "kind": "vehicle_tracker",
        "version": 1,
    },
    ("POST", "/api/telemetry/devices/{device_pk}/retire"): lambda world: {"version": 1},
    ("POST", "/api/telemetry/zones"): lambda world: ZONE,
    ("PUT", "/api/telemetry/zones/{fence_id}"): lambda world: {**ZONE, "version": 1},
    ("POST", "/api/telemetry/zones/{fence_id}/retire"): lambda world: {"version": 1},
    ("POST", "/api/telemetry/devices/{device_pk}/export"): lambda world: {
        "format": "csv",
        "start": "2020-01-01T00:00:00Z",
        "end": "2030-01-01T00:00:00Z",
        "recipient": "Matrix disclosure officer",
    },
    ("POST", "/api/telemetry/alerts/{alert_id}/acknowledge"): lambda world: {"note": "matrix"},
    ("POST", "/api/telemetry/alerts/{alert_id}/resolve"): lambda world: {"note": "matrix"},
    ("POST", "/api/telemetry/policies"): lambda world: {"name": "Matrix new policy"},
    ("PUT", "/api/telemetry/policies/{policy_id}"): lambda world: {
        "name": "Matrix renamed",
        "version": 1,
    },
    ("POST", "/api/telemetry/policies/{policy_id}/steps"): lambda world: {
        "delay_seconds": 60,
        "targets": [{"kind": "supervisors"}],
    },
    ("POST", "/api/telemetry/policies/{policy_id}/assignments"): lambda world: {
        "source": "device",
        "source_id": str(world["telemetry_inside_device"].pk),
    },
}


def build(world: dict[str, Any]) -> None:
    import datetime as dt

    from django.utils import timezone

    from haven.rota import services as rota_services

    actors: list[Actor] = world["actors"]
    officer = next(a.user for a in actors if a.role == Role.TECHNICAL_OFFICER)
    supervisor = next(a.user for a in actors if a.role == Role.TECHNICAL_SUPERVISOR)
    rota = rota_services.create_rota(
        supervisor, name="Telemetry matrix rota", starts_on=timezone.localdate() - dt.timedelta(2)
    )
    rota_services.add_layer(
        supervisor,
        rota.pk,
        name="Primary",
        members=[officer],
        handover_time=dt.time(8),
        rotation="daily",
    )
    inside = services.register_device(
        None,
        device_id="matrix-inside",
        name="Matrix Insidetracker",
        kind="vehicle_tracker",
        rota_name=rota.name,
    )
    outside = services.register_device(
        None,
        device_id="matrix-outside",
        name="Matrix Outsidealarm",
        kind="panic_alarm",
        protects_person=True,
    )
    for where, device in (("inside", inside), ("outside", outside)):
        result = services.ingest(
            Message(
                device_id=device.device_id,
                protocol="osmand-form",
                lat=51.5,
                lon=-0.1,
                fix_time=timezone.now(),
                alarms=("sos",),
            )
        )
        world[f"telemetry_{where}_alert"] = result.alerts[0]
        world[f"telemetry_{where}_device"] = device
        world[f"telemetry_{where}_fence"] = services.create_geofence(
            None,
            name=f"Matrix {where} zone",
            kind="safe",
            area=services.fence_area(lat=51.5, lon=-0.1, radius_m=150),
            device=device,
        )
    world["secrets_inside"] += ["Matrix Insidetracker"]
    for where in ("inside", "outside"):  # policies are open to operations: no team to be outside
        policy = services.create_policy(supervisor, name=f"Matrix policy {where}")
        world[f"telemetry_{where}_policy"] = policy
        world[f"telemetry_{where}_step"] = services.add_step(
            supervisor,
            policy.pk,
            delay_seconds=60,
            targets=[services.TargetSpec("supervisors")],
        )

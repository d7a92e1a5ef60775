"""Policy-checked reads of alerts, devices and positions.

- Alerts (titles, status, who has them) are open to the operations module: whoever is on call
  needs the whole picture. Acknowledging needs to be a recipient or a technical supervisor.
- Positions are personal data where a device protects a person: only technical supervisors
  and the people an alert on that device was routed to may read them; every read of positions is
  a consultation in the ledger (justification: emergency response / supervision).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from haven.access import modules
from haven.access.purposes import Purpose
from haven.access.visibility import restrict
from haven.accounts.models import User
from haven.accounts.roles import Module, Role
from haven.audit import ledger
from haven.audit.models import Action, LedgerEntry
from haven.concurrency.transactions import service

from . import exports
from .models import (
    ALERT,
    DEVICE,
    GEOFENCE,
    OPEN_ALERT_STATUSES,
    Alert,
    EscalationPolicy,
    Event,
    Geofence,
    Position,
    TelemetryDevice,
)
from .reports import Stop, Trip, trips_and_stops

PAGE_SIZE = 25
STATUS_FILTERS = {"open": OPEN_ALERT_STATUSES, "acknowledged": ("acknowledged",), "all": None}


class NotFound(Http404):
    pass


require_operations = modules.require_operations


def alerts_visible_to(user: User, status: str = "open") -> QuerySet[Alert]:
    require_operations(user)
    query = restrict(
        Alert.objects.select_related("device", "routed_to", "acknowledged_by", "event"), user
    )
    statuses = STATUS_FILTERS.get(status, OPEN_ALERT_STATUSES)
    if statuses is not None:
        query = query.filter(status__in=statuses)
    # Open alerts: most severe first, then newest; the rest newest first.
    return query.order_by("severity", "-raised_at") if status == "open" else query


def list_alerts(user: User, status: str, page_number: int | str | None) -> Page:
    return Paginator(alerts_visible_to(user, status), PAGE_SIZE).get_page(page_number)


def get_alert(user: User, alert_id: UUID | str) -> Alert:
    try:
        return alerts_visible_to(user, "all").get(pk=alert_id)
    except (Alert.DoesNotExist, ValueError, TypeError) as missing:
        raise NotFound("No such alert") from missing


def policies(user: User) -> QuerySet[EscalationPolicy]:
    require_operations(user)
    return restrict(EscalationPolicy.objects.prefetch_related("steps__targets__user"), user)


def get_policy(user: User, policy_id: UUID | str) -> EscalationPolicy:
    try:
        return policies(user).get(pk=policy_id)
    except (EscalationPolicy.DoesNotExist, ValueError, TypeError, ValidationError) as missing:
        raise NotFound("No such escalation policy") from missing


@dataclass(frozen=True)
class AssignedSource:
    id: int
    source: str
    label: str


def policy_sources(user: User) -> list[tuple[str, str]]:
    """What a supervisor may assign a policy to: devices, open deployments they can see, and
    the cases those deployments protect (named by deployment: operations never reads a case)."""
    from haven.equipment import selectors as equipment_selectors

    found = [(f"device:{d.pk}", f"Device: {d.name} ({d.device_id})") for d in devices(user)]
    deployments = list(equipment_selectors.deployments_visible_to(user).order_by("reference"))
    found += [(f"deployment:{d.pk}", f"Deployment: {d.reference} {d.title}") for d in deployments]
    found += [
        (f"case:{d.case_id}", f"Case protected by deployment {d.reference}")
        for d in deployments
        if d.case_id
    ]
    return found


def policy_assignments(user: User, policy: EscalationPolicy) -> list[AssignedSource]:
    labels = {value: label for value, label in policy_sources(user)}
    return [
        AssignedSource(
            a.pk,
            a.source,
            labels.get(f"{a.source}:{a.source_id}", f"{a.get_source_display()} {a.source_id}"),
        )
        for a in policy.assignments.all()
    ]


def may_manage_policies(user: User) -> bool:
    return user.has_role(Role.TECHNICAL_SUPERVISOR)


def may_acknowledge(user: User, alert: Alert) -> bool:
    return user.has_role(Role.TECHNICAL_SUPERVISOR) or (
        user.has_role(Role.TECHNICAL_OFFICER) and user.pk in (alert.recipients or [])
    )


def alerts_awaiting(user: User) -> list[Alert]:
    """Open alerts waiting for this user to acknowledge: every one for a supervisor, the ones
    paged to them for an officer (recipients is a JSON list: filtered here, open alerts are few).
    """
    if not user.has_role(Role.TECHNICAL_SUPERVISOR, Role.TECHNICAL_OFFICER):
        return []
    open_alerts = (
        alerts_visible_to(user, "open")
        .select_related(None)
        .only("id", "severity", "raised_at", "recipients")
    )
    return [alert for alert in open_alerts if may_acknowledge(user, alert)]


def may_read_positions(user: User, device: TelemetryDevice) -> bool:
    if not user.can_use(Module.OPERATIONS):
        return False
    if not device.protects_person or user.has_role(Role.TECHNICAL_SUPERVISOR):
        return True
    # Recipients are a JSON list; containment lookups differ by database, so check in Python.
    recipients = Alert.objects.filter(device=device).values_list("recipients", flat=True)
    return any(user.pk in (ids or []) for ids in recipients)


@service
def alert_position(user: User, alert: Alert) -> tuple[float, float, float | None] | None:
    """Where the alert happened, for those who may read the device's positions (a consultation)."""
    position = alert.event.position
    if position is None or not may_read_positions(user, alert.device):
        return None
    point = position.point
    if point is None:
        return None
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=ALERT,
        object_id=alert.pk,
        fields=["position"],
        justification=Purpose.EMERGENCY,
        details={"device": alert.device.device_id},
    )
    return point[0], point[1], position.point_accuracy


def devices(user: User) -> QuerySet[TelemetryDevice]:
    require_operations(user)
    return restrict(TelemetryDevice, user)


def get_device(user: User, device_pk: UUID | str) -> TelemetryDevice:
    try:
        device = devices(user).get(pk=device_pk)
    except (TelemetryDevice.DoesNotExist, ValueError, TypeError) as missing:
        raise NotFound("No such device") from missing
    if not may_read_positions(user, device):
        raise NotFound("No such device")
    return device


@dataclass
class DeviceReport:
    device: TelemetryDevice
    start: dt.datetime
    end: dt.datetime
    positions: int
    trips: list[Trip]
    stops: list[Stop]


@service
def device_report(
    user: User, device_pk: UUID | str, start: dt.datetime, end: dt.datetime
) -> DeviceReport:
    device = get_device(user, device_pk)
    rows = Position.objects.filter(device=device, fix_time__gte=start, fix_time__lt=end).order_by(
        "fix_time"
    )
    points = []
    for row in rows:
        point = row.point
        if point is not None:
            points.append((row.fix_time, point[0], point[1], row.speed_mps))
    trips, stops = trips_and_stops(points)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=DEVICE,
        object_id=device.pk,
        fields=["positions"],
        justification=Purpose.SUPERVISION,
        details={"from": start.isoformat(), "to": end.isoformat(), "positions": len(points)},
    )
    return DeviceReport(device, start, end, len(points), trips, stops)


# ------------------------------------------------------------------------ devices and zones


def devices_in_service(user: User) -> QuerySet[TelemetryDevice]:
    """Registered devices not retired, for the register's list."""
    return devices(user).filter(retired_at=None)


def device_for_change(user: User, device_pk: UUID | str) -> TelemetryDevice:
    """A device to edit or retire: any device in service the operations user can see (the
    register holds no positions; positions stay behind may_read_positions)."""
    try:
        return devices_in_service(user).get(pk=device_pk)
    except (TelemetryDevice.DoesNotExist, ValueError, TypeError, ValidationError) as missing:
        raise NotFound("No such device") from missing


def _deployments_seen(user: User) -> set[UUID]:
    from haven.equipment import selectors as equipment_selectors

    return set(equipment_selectors.deployments_visible_to(user).values_list("pk", flat=True))


def may_read_fence(user: User, fence: Geofence, deployments: set[UUID] | None = None) -> bool:
    """A zone shows where its device goes (a protected person's home, say): only those who may
    read that device's positions, or see the deployment it is attached to, may read it."""
    if not user.can_use(Module.OPERATIONS):
        return False
    if fence.device is not None:
        return may_read_positions(user, fence.device)
    if fence.deployment_id is not None:
        seen = deployments if deployments is not None else _deployments_seen(user)
        return fence.deployment_id in seen
    return True


def geofences(user: User) -> list[Geofence]:
    """The zones in use that the user may read, by name."""
    require_operations(user)
    rows = Geofence.objects.filter(active=True).select_related("device").order_by("name")
    seen = _deployments_seen(user)
    return [fence for fence in rows if may_read_fence(user, fence, seen)]


def _record_fence_reads(user: User, fences: list[Geofence]) -> None:
    """Zones of devices that protect a person are personal data: each read is a consultation."""
    for fence in fences:
        if fence.device is not None and fence.device.protects_person:
            ledger.record(
                actor=user,
                action=Action.CONSULTATION,
                object_type=GEOFENCE,
                object_id=fence.pk,
                fields=["area"],
                justification=Purpose.SUPERVISION,
                details={"device": fence.device.device_id},
            )


@service
def get_geofence(user: User, fence_id: UUID | str) -> Geofence:
    try:
        fence = Geofence.objects.select_related("device").filter(active=True).get(pk=fence_id)
    except (Geofence.DoesNotExist, ValueError, TypeError, ValidationError) as missing:
        raise NotFound("No such zone") from missing
    require_operations(user)
    if not may_read_fence(user, fence):
        raise NotFound("No such zone")
    _record_fence_reads(user, [fence])
    return fence


@service
def read_geofences(user: User) -> list[Geofence]:
    """The zones the user may read, with their areas (for the map): reads ledgered."""
    fences = geofences(user)
    _record_fence_reads(user, fences)
    return fences


# ------------------------------------------------------------------------ the map


@dataclass(frozen=True)
class MapPoint:
    device: TelemetryDevice
    at: dt.datetime
    lat: float
    lon: float
    accuracy: float | None
    speed_mps: float | None
    valid: bool


def _record_position_reads(
    user: User, devices_read: list[TelemetryDevice], purpose: str, **details: object
) -> None:
    """Every read of a device's positions is a consultation in the ledger, whatever the device
    (as device_report): a tracker that protects nobody may be fitted under a covert
    authorisation to a person's vehicle, and its track is personal data all the same."""
    for device in devices_read:
        ledger.record(
            actor=user,
            action=Action.CONSULTATION,
            object_type=DEVICE,
            object_id=device.pk,
            fields=["positions"],
            justification=purpose,
            details={"device": device.device_id, **details},
        )


# The live map polls every 10 seconds (static/telemetry/map.js). One consultation per poll and
# device would bury the ledger (8,640 entries a day per device for one open map) without
# telling an auditor more: what matters is who watched which device, from when. So a live read
# is one entry per reader and device per map view, a view lasting at most the session's idle
# timeout: a reader still watching after that earns a new entry, a device newly visible gets
# its own at once. Route replay, reports and exports are recorded every time (each is a
# distinct request for a stretch of history).
def live_read_window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.SESSION_IDLE_SECONDS)


def _record_live_reads(user: User, devices_read: list[TelemetryDevice]) -> None:
    if not devices_read:
        return
    now = timezone.now()
    recent = set(
        LedgerEntry.objects.filter(
            actor=user,
            action=Action.CONSULTATION,
            object_type=DEVICE,
            object_id__in=[str(device.pk) for device in devices_read],
            recorded_at__gt=now - live_read_window(),
            details__view="live",
        ).values_list("object_id", flat=True)
    )
    _record_position_reads(
        user,
        [device for device in devices_read if str(device.pk) not in recent],
        Purpose.SUPERVISION,
        view="live",
    )


@service
def live_positions(user: User) -> list[MapPoint]:
    """The latest fix of every device in service whose positions the user may read (ledgered
    once per device and map view: _record_live_reads)."""
    readable = [d for d in devices_in_service(user) if may_read_positions(user, d)]
    found: list[MapPoint] = []
    for device in readable:
        if device.last_fix_at is None:
            continue
        row = (
            Position.objects.filter(device=device, valid=True, fix_time__lte=device.last_fix_at)
            .order_by("-fix_time")
            .first()
        )
        point = row.point if row is not None else None
        if row is None or point is None:
            continue
        found.append(
            MapPoint(device, row.fix_time, *point, row.point_accuracy, row.speed_mps, row.valid)
        )
    _record_live_reads(user, [p.device for p in found])
    return found


MAX_ROUTE_POINTS = 20_000


@service
def route(
    user: User, device_pk: UUID | str, start: dt.datetime, end: dt.datetime
) -> list[MapPoint]:
    """A device's fixes in [start, end), oldest first, for route replay (at most
    MAX_ROUTE_POINTS: the newest are cut)."""
    device = get_device(user, device_pk)
    rows = Position.objects.filter(device=device, fix_time__gte=start, fix_time__lt=end).order_by(
        "fix_time"
    )[:MAX_ROUTE_POINTS]
    found = []
    for row in rows:
        point = row.point
        if point is not None:
            found.append(
                MapPoint(device, row.fix_time, *point, row.point_accuracy, row.speed_mps, row.valid)
            )
    _record_position_reads(
        user,
        [device],
        Purpose.SUPERVISION,
        view="route",
        start=start.isoformat(),
        end=end.isoformat(),
        positions=len(found),
    )
    return found


# ------------------------------------------------------------------------------ evidential export

EXPORT_MARKING = "OFFICIAL-SENSITIVE"
MAX_EXPORT_POSITIONS = 20_000


@service
def export_track(
    user: User,
    device_pk: UUID | str,
    start: dt.datetime,
    end: dt.datetime,
    fmt: str,
    recipient: str,
) -> exports.Export:
    """A device's positions and events in [start, end) as an evidential file, for those who may
    read its positions. The file's SHA-256 and the recipient go into the ledger as a disclosure,
    in the transaction that read the rows."""
    recipient = (recipient or "").strip()
    if not recipient:
        raise ValidationError({"recipient": ["Enter who the export is for"]})
    if end <= start:
        raise ValidationError({"end": ["The end must be after the start"]})
    if fmt not in exports.FORMATS:
        raise ValidationError({"fmt": ["Choose CSV, GPX, KML or PDF"]})
    device = get_device(user, device_pk)
    track = _track(device, start, end)
    export = exports.render(track, fmt, EXPORT_MARKING, recipient)
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type=DEVICE,
        object_id=device.pk,
        fields=["positions", "events"],
        recipients=[user.username],
        justification=Purpose.SUPERVISION,
        details={
            "format": fmt,
            "sha256": export.sha256,
            "size": len(export.content),
            "positions": len(track.points),
            "count": len(track.events),
            "from": start.isoformat(),
            "to": end.isoformat(),
            "recipient": recipient[:200],  # free text: sealed by the ledger
        },
    )
    return export


def _track(device: TelemetryDevice, start: dt.datetime, end: dt.datetime) -> exports.Track:
    rows = Position.objects.filter(device=device, fix_time__gte=start, fix_time__lt=end).order_by(
        "fix_time"
    )[:MAX_EXPORT_POSITIONS]
    points = []
    for row in rows:
        where = row.point
        if where is not None:
            altitude = row.sealed.get("altitude") if row.sealed else row.altitude
            points.append(
                exports.TrackPoint(
                    row.fix_time,
                    where[0],
                    where[1],
                    altitude,
                    row.speed_mps,
                    row.course,
                    row.point_accuracy,
                    row.valid,
                )
            )
    events = []
    found = Event.objects.filter(device=device, event_time__gte=start, event_time__lt=end)
    for event in found.select_related("position").order_by("event_time"):
        where = event.position.point if event.position is not None else None
        events.append(
            exports.TrackEvent(
                event.event_time,
                event.type,
                event.get_type_display(),
                event.key,
                where[0] if where else None,
                where[1] if where else None,
            )
        )
    return exports.Track(device.device_id, device.name, start, end, points, events)


__all__ = [
    "DeviceReport",
    "MapPoint",
    "device_for_change",
    "devices_in_service",
    "geofences",
    "get_geofence",
    "live_positions",
    "may_read_fence",
    "read_geofences",
    "route",
    "export_track",
    "NotFound",
    "alert_position",
    "alerts_visible_to",
    "device_report",
    "devices",
    "get_alert",
    "get_device",
    "list_alerts",
    "may_acknowledge",
    "may_read_positions",
    "may_manage_policies",
    "policies",
    "get_policy",
    "policy_assignments",
    "policy_sources",
]


@dataclass(frozen=True)
class CaseAlarm:
    """An alert raised by a device protecting a case, as the case team sees it: what, when,
    and whether someone on call has it (no positions: those stay with operations)."""

    raised_at: dt.datetime
    title: str
    status: str
    acknowledged_at: dt.datetime | None
    late: bool


CASE_ALARMS_SHOWN = 50


def alarms_for_case(case_id: UUID) -> list[CaseAlarm]:
    """The latest alerts of a case's devices. The caller has opened the case for the user
    (cases.selectors): the case team is told of its person's alarms (DESIGN.md)."""
    rows = Alert.objects.filter(case_id=case_id).order_by("-raised_at")[:CASE_ALARMS_SHOWN]
    return [
        CaseAlarm(a.raised_at, a.title, a.get_status_display(), a.acknowledged_at, a.late)
        for a in rows
    ]

"""Telemetry writes: device and fence registration, ingest, alert routing, acknowledgement,
escalation, offline sweep and retention. One function per business action, one transaction each;
alerts, acknowledgements and escalations are written to the ledger in that transaction.

Positions themselves are not ledger entries one by one (a tracker reports every few seconds):
their collection is recorded when the device is registered, and every read of them is a
consultation (selectors.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from haven.access.models import Notification
from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.audit import ledger
from haven.audit.models import Action

from . import events as ev
from . import geofence as gf
from .config import TelemetryConfig, get_config
from .models import (
    ALERT,
    DEVICE,
    GEOFENCE,
    OPEN_ALERT_STATUSES,
    Alert,
    AlertAcknowledgement,
    AlertStatus,
    DeviceStatus,
    Event,
    FenceKind,
    Geofence,
    Position,
    TelemetryDevice,
)
from .protocols import SPEED_TO_MPS, Message, RejectCounter, Rejected

log = logging.getLogger("haven.telemetry")
REJECTED = RejectCounter()  # process-wide counts of refused messages, by reason


class ConflictError(Exception):
    """The alert was already acknowledged."""


class AlertNotFound(Exception):
    pass


# ------------------------------------------------------------------------------ registration


def _fail(field_name: str | None, message: str) -> ValidationError:
    return ValidationError({field_name: [message]} if field_name else message)


@transaction.atomic
def register_device(
    actor: User | None,
    *,
    device_id: str,
    name: str,
    kind: str,
    protects_person: bool = False,
    rota_name: str = "",
    asset_id: UUID | str | None = None,
    speed_unit: str = "",
    expected_interval_s: int | None = None,
) -> TelemetryDevice:
    device_id = (device_id or "").strip()
    if not device_id:
        raise _fail("device_id", "Enter the identifier the device reports with")
    if TelemetryDevice.objects.filter(device_id=device_id).exists():
        raise _fail("device_id", "A device with that identifier is already registered")
    if asset_id is None:
        asset_id = _asset_for(device_id)
    device = TelemetryDevice(
        device_id=device_id,
        name=(name or device_id).strip()[:120],
        kind=kind,
        protects_person=protects_person,
        rota_name=rota_name.strip(),
        asset_id=asset_id,
        speed_unit=speed_unit or get_config().default_speed_unit,
        expected_interval_s=expected_interval_s,
    )
    device.full_clean()
    device.save()
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=DEVICE,
        object_id=device.pk,
        fields=["device_id", "kind", "protects_person", "rota_name", "positions"],
        details={"asset_id": str(asset_id) if asset_id else None},
    )
    return device


def _asset_for(device_id: str) -> UUID | None:
    """The equipment register's asset that reports with this id, if the register is present."""
    try:
        from haven.equipment import selectors as equipment_selectors
    except ImportError:  # pragma: no cover - equipment is part of this service
        return None
    asset = equipment_selectors.asset_by_device_id(device_id)
    return asset.pk if asset is not None else None


def fence_area(
    *,
    lat: float | None = None,
    lon: float | None = None,
    radius_m: float | None = None,
    points: list[tuple[float, float]] | None = None,
) -> dict[str, Any]:
    if points:
        return {"polygon": [[float(a), float(b)] for a, b in points]}
    return {"circle": {"lat": lat, "lon": lon, "radius_m": radius_m}}


def fence_from_row(row: Geofence, device_id: str | None = None) -> gf.Fence:
    area = row.area or {}
    if "polygon" in area:
        return gf.Fence(
            id=str(row.pk),
            kind=row.kind,
            points=tuple((float(p[0]), float(p[1])) for p in area["polygon"]),
            device_id=device_id,
        )
    circle = area.get("circle") or {}
    return gf.Fence(
        id=str(row.pk),
        kind=row.kind,
        centre=(float(circle["lat"]), float(circle["lon"])),
        radius_m=float(circle["radius_m"]),
        device_id=device_id,
    )


@transaction.atomic
def create_geofence(
    actor: User | None,
    *,
    name: str,
    kind: str,
    area: dict[str, Any],
    device: TelemetryDevice | None = None,
) -> Geofence:
    if kind not in FenceKind.values:
        raise _fail("kind", "Choose a safe zone or an exclusion zone")
    row = Geofence(name=name.strip()[:120], kind=kind, area=area, device=device)
    try:
        gf.CompiledFence.build(fence_from_row(row))
    except (ValueError, KeyError, TypeError) as error:
        raise _fail("area", f"Not a usable fence: {error}") from error
    row.save()
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=GEOFENCE,
        object_id=row.pk,
        fields=["name", "kind", "area"],
        details={"device": str(device.pk) if device else None},
    )
    invalidate_fences()
    return row


# ------------------------------------------------------------------------------ fence index

FENCE_CACHE_SECONDS = 2.0
_fence_cache: dict[str, Any] = {"checked": 0.0, "stamp": None, "index": None}


def invalidate_fences() -> None:
    _fence_cache.update(checked=0.0, stamp=None, index=None)


def fence_index() -> gf.FenceIndex:
    """All active fences in one STRtree, rebuilt when fences change (checked every 2 s)."""
    now = time.monotonic()
    index = _fence_cache["index"]
    if index is not None and now - _fence_cache["checked"] < FENCE_CACHE_SECONDS:
        return index  # type: ignore[no-any-return]
    active = Geofence.objects.filter(active=True)
    summary = active.aggregate(n=Count("id"), latest=Max("updated_at"))
    stamp = (summary["n"], summary["latest"])
    if index is None or stamp != _fence_cache["stamp"]:
        rows = active.select_related("device")
        index = gf.FenceIndex(
            fence_from_row(r, r.device.device_id if r.device is not None else None) for r in rows
        )
    _fence_cache.update(checked=now, stamp=stamp, index=index)
    return index  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------ flood control


class FloodGate:
    """At most ``limit`` messages per device per sliding minute; alarms always pass."""

    def __init__(self) -> None:
        self.seen: dict[str, deque[float]] = {}

    def allow(self, device_id: str, limit: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        window = self.seen.setdefault(device_id, deque())
        while window and now - window[0] > 60.0:
            window.popleft()
        if len(window) >= limit:
            return False
        window.append(now)
        return True


FLOOD = FloodGate()


# ------------------------------------------------------------------------------ ingest


@dataclass
class IngestResult:
    device: TelemetryDevice
    position: Position | None = None
    duplicate: bool = False
    late: bool = False
    events: list[Event] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def find_device(device_id: str) -> TelemetryDevice | None:
    return TelemetryDevice.objects.filter(device_id=device_id, active=True).first()


def ingest(
    message: Message,
    *,
    received_at: dt.datetime | None = None,
    config: TelemetryConfig | None = None,
) -> IngestResult:
    """Store one message and raise its events and alerts. Idempotent: a resend of the same
    (device, fix time) stores nothing new. Raises Rejected("unknown_device") / ("flood")."""
    config = config or get_config()
    received_at = received_at or timezone.now()
    if not message.alarms and not FLOOD.allow(
        message.device_id, config.flood_per_device_per_minute
    ):
        raise Rejected("flood", message.device_id[:80], status=429)
    return _ingest(message, received_at, config)


@transaction.atomic
def _ingest(message: Message, received_at: dt.datetime, config: TelemetryConfig) -> IngestResult:
    try:
        # The device row is the per-device lock: one message at a time per device, in order.
        device = TelemetryDevice.objects.select_for_update().get(
            device_id=message.device_id, active=True
        )
    except TelemetryDevice.DoesNotExist:
        log.warning("telemetry: message from unknown device %r refused", message.device_id[:80])
        raise Rejected("unknown_device", message.device_id[:80]) from None
    fix_time = message.fix_time or received_at
    in_order = device.last_fix_at is None or fix_time >= device.last_fix_at
    # Strictly newer than every stored fix: it cannot be a resend (no lookup needed).
    newest = device.last_fix_at is None or fix_time > device.last_fix_at
    late = ev.is_late(fix_time, received_at, device.last_fix_at, config.late_after_s)
    result = IngestResult(device=device, late=late)
    specs: list[ev.EventSpec] = []
    fence_kinds: dict[str, str] = {}
    changed: list[str] = ["last_seen_at"]

    if message.kind == "position" and message.has_fix:
        if not newest and Position.objects.filter(device=device, fix_time=fix_time).exists():
            result.duplicate = True
        else:
            result.position = _store_position(device, message, fix_time, received_at, late)
        if in_order and not result.duplicate:
            index = fence_index()
            assert message.lat is not None and message.lon is not None
            inside, transitions = index.evaluate(
                device.device_id,
                device.inside_fences,
                message.lat,
                message.lon,
                message.accuracy,
                gf.Rules(config.geofence_min_accuracy_m, config.geofence_hysteresis_m),
            )
            if inside != sorted(device.inside_fences):
                device.inside_fences = inside
                changed.append("inside_fences")
            for fence_id, change in transitions:
                kind = index.by_id[fence_id].fence.kind if fence_id in index.by_id else "safe"
                fence_kinds[fence_id] = kind
                specs.append(ev.geofence_event(fence_id, kind, change))
    elif message.kind == "lwt":
        specs.append(ev.EventSpec(ev.OFFLINE, "lwt", ev.WARNING, alert=True))
    elif message.kind == "transition":
        specs.append(ev.EventSpec(ev.REGION, (message.event or "")[:20]))

    if in_order and message.battery is not None and not result.duplicate:
        low, battery_spec = ev.battery_event(message.battery, device.battery_low, config)
        device.battery_level = message.battery
        changed.append("battery_level")
        if low != device.battery_low:
            device.battery_low = low
            changed.append("battery_low")
        if battery_spec:
            specs.append(battery_spec)
    # Alarms always count: late, out of order, without a fix, or on a resent position.
    specs.extend(ev.alarm_events(message.alarms))

    if message.kind != "lwt" and device.status != DeviceStatus.ONLINE:
        if device.status == DeviceStatus.OFFLINE:
            specs.append(ev.EventSpec(ev.ONLINE))
        device.status = DeviceStatus.ONLINE
        changed.append("status")
    if message.kind == "lwt" and device.status != DeviceStatus.OFFLINE:
        device.status = DeviceStatus.OFFLINE
        changed.append("status")
    device.last_seen_at = received_at
    if message.kind == "position" and message.has_fix and in_order:
        device.last_fix_at = fix_time
        changed.append("last_fix_at")
    device.save(update_fields=sorted(set(changed)))

    for spec in specs:
        event = _record_event(device, spec, fix_time, received_at, late, result.position)
        if event is None:
            continue  # the same event from a resent message: already recorded
        result.events.append(event)
        if spec.alert:
            result.alerts.append(_raise_alert(device, event, spec, received_at, config))
    return result


def _store_position(
    device: TelemetryDevice,
    message: Message,
    fix_time: dt.datetime,
    received_at: dt.datetime,
    late: bool,
) -> Position:
    speed = message.speed_mps
    if message.protocol in ("osmand-query", "osmand-form") and message.speed_raw is not None:
        speed = message.speed_raw * SPEED_TO_MPS.get(device.speed_unit, SPEED_TO_MPS["knots"])
    position = Position(
        device=device,
        fix_time=fix_time,
        received_at=received_at,
        protocol=message.protocol,
        late=late,
        valid=message.valid,
        speed_mps=speed,
        course=message.course,
        battery=message.battery,
        attributes=message.attributes,
    )
    if device.protects_person:
        position.sealed = {
            "lat": message.lat,
            "lon": message.lon,
            "accuracy": message.accuracy,
            "altitude": message.altitude,
        }
    else:
        position.lat, position.lon = message.lat, message.lon
        position.accuracy, position.altitude = message.accuracy, message.altitude
    position.save(force_insert=True)
    return position


def _record_event(
    device: TelemetryDevice,
    spec: ev.EventSpec,
    at: dt.datetime,
    received_at: dt.datetime,
    late: bool,
    position: Position | None,
) -> Event | None:
    if Event.objects.filter(device=device, type=spec.type, key=spec.key, event_time=at).exists():
        return None
    is_fence = spec.type in (ev.GEOFENCE_ENTER, ev.GEOFENCE_EXIT)
    event = Event(
        device=device,
        type=spec.type,
        key=spec.key,
        event_time=at,
        received_at=received_at,
        late=late,
        severity=spec.severity,
        geofence_id=spec.key if is_fence and _fence_exists(spec.key) else None,
        position=position,
    )
    event.save(force_insert=True)
    return event


def _fence_exists(fence_id: str) -> bool:
    return bool(fence_id) and Geofence.objects.filter(pk=fence_id).exists()


TITLES = {
    ev.ALARM: "Alarm {key}",
    ev.GEOFENCE_ENTER: "Entered exclusion zone",
    ev.GEOFENCE_EXIT: "Left safe zone",
    ev.LOW_BATTERY: "Low battery",
    ev.OFFLINE: "Device offline",
}


def _title(device: TelemetryDevice, spec: ev.EventSpec, late: bool) -> str:
    what = TITLES.get(spec.type, spec.type).format(key=spec.key.upper())
    if spec.type == ev.GEOFENCE_ENTER and spec.key:
        fence = Geofence.objects.filter(pk=spec.key).only("name").first()
        what += f" {fence.name}" if fence else ""
    if spec.type == ev.GEOFENCE_EXIT and spec.key:
        fence = Geofence.objects.filter(pk=spec.key).only("name").first()
        what += f" {fence.name}" if fence else ""
    return f"{what} – {device.name}{' (LATE)' if late else ''}"[:200]


# ------------------------------------------------------------------------------ routing


@dataclass
class Route:
    users: list[User]
    how: str
    final: bool  # nobody further to escalate to


def supervisors() -> list[User]:
    users = User.objects.filter(is_active=True).order_by("username")
    return [u for u in users if u.has_role(Role.TECHNICAL_SUPERVISOR)]


def route(device: TelemetryDevice, level: int, at: dt.datetime) -> Route:
    """Level 0 is whoever is on call on the device's rota; each escalation goes one further down
    the rota's chain (override holder, then layers by priority); after the chain, every technical
    supervisor. With no rota (or nobody on call) the alert goes straight to the supervisors."""
    chain: list[User] = []
    if device.rota_name:
        from haven.rota import selectors as rota_selectors

        rota = rota_selectors.find_rota(device.rota_name)
        if rota is not None:
            chain = list(dict.fromkeys(rota_selectors.escalation_chain(rota, at)))
    if level < len(chain):
        return Route([chain[level]], f"on call, rota {device.rota_name}, level {level + 1}", False)
    fallback = supervisors()
    why = "no rota" if not device.rota_name else "rota exhausted or nobody on call"
    return Route(fallback, f"technical supervisors ({why})", True)


def _deliver(alert: Alert, target: Route, config: TelemetryConfig, now: dt.datetime) -> None:
    alert.routed_to = target.users[0] if target.users else None
    alert.routing = target.how[:200]
    alert.recipients = sorted(set(alert.recipients) | {u.pk for u in target.users})
    alert.escalate_at = (
        None if target.final else now + dt.timedelta(seconds=config.escalate_after_s)
    )
    Notification.objects.bulk_create(
        Notification(user=user, message=f"ALERT: {alert.title}", link="/operations/alerts/")
        for user in target.users
    )


def _raise_alert(
    device: TelemetryDevice,
    event: Event,
    spec: ev.EventSpec,
    now: dt.datetime,
    config: TelemetryConfig,
) -> Alert:
    alert = Alert(
        event=event,
        device=device,
        severity=spec.severity,
        title=_title(device, spec, event.late),
        late=event.late,
        raised_at=now,
    )
    target = route(device, 0, now)
    _deliver(alert, target, config, now)
    alert.save(force_insert=True)
    ledger.record(
        actor=None,
        action=Action.COLLECTION,
        object_type=ALERT,
        object_id=alert.pk,
        fields=["alert"],
        recipients=[u.username for u in target.users],
        justification="telemetry alert raised",
        details={
            "device": device.device_id,
            "event": event.type,
            "key": event.key,
            "late": event.late,
            "event_time": event.event_time.isoformat(),
            "routing": target.how,
        },
    )
    return alert


# ------------------------------------------------------------------------------ people


def may_acknowledge(user: User, alert: Alert) -> bool:
    return user.has_role(Role.TECHNICAL_SUPERVISOR) or (
        user.has_role(Role.TECHNICAL_OFFICER) and user.pk in (alert.recipients or [])
    )


@transaction.atomic
def acknowledge(actor: User, alert_id: UUID | str, note: str = "") -> Alert:
    try:
        alert = Alert.objects.select_for_update().get(pk=alert_id)
    except (Alert.DoesNotExist, ValueError, ValidationError) as missing:
        raise AlertNotFound("No such alert") from missing
    if not may_acknowledge(actor, alert):
        raise AlertNotFound("No such alert")
    if alert.status == AlertStatus.ACKNOWLEDGED:
        raise ConflictError("This alert was already acknowledged")
    now = timezone.now()
    AlertAcknowledgement.objects.create(alert=alert, user=actor, at=now, note=note.strip()[:500])
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by = actor
    alert.escalate_at = None
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "escalate_at"])
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=ALERT,
        object_id=alert.pk,
        fields=["status", "acknowledgement"],
        justification="alert acknowledged",
        details={
            "seconds_to_acknowledge": round((now - alert.raised_at).total_seconds(), 1),
            "escalation_level": alert.escalation_level,
        },
    )
    return alert


@transaction.atomic
def escalate(alert_id: UUID | str, now: dt.datetime | None = None) -> Alert | None:
    """Move one unacknowledged alert to the next level; None if it no longer needs it."""
    now = now or timezone.now()
    config = get_config()
    alert = Alert.objects.select_for_update().select_related("device").filter(pk=alert_id).first()
    if alert is None or alert.status not in OPEN_ALERT_STATUSES or alert.escalate_at is None:
        return None
    if alert.escalate_at > now:
        return None
    alert.escalation_level += 1
    alert.status = AlertStatus.ESCALATED
    target = route(alert.device, alert.escalation_level, now)
    _deliver(alert, target, config, now)
    alert.save()
    ledger.record(
        actor=None,
        action=Action.DISCLOSURE,
        object_type=ALERT,
        object_id=alert.pk,
        fields=["alert"],
        recipients=[u.username for u in target.users],
        justification="unacknowledged alert escalated",
        details={"level": alert.escalation_level, "routing": target.how},
    )
    return alert


def escalate_due(now: dt.datetime | None = None) -> list[Alert]:
    now = now or timezone.now()
    due = Alert.objects.filter(status__in=OPEN_ALERT_STATUSES, escalate_at__lte=now).values_list(
        "pk", flat=True
    )
    escalated = [escalate(pk, now) for pk in list(due)]
    return [a for a in escalated if a is not None]


def check_offline(now: dt.datetime | None = None) -> list[Alert]:
    """Devices silent for longer than their interval go offline once, with a warning alert."""
    now = now or timezone.now()
    config = get_config()
    alerts: list[Alert] = []
    for device in TelemetryDevice.objects.filter(active=True, status=DeviceStatus.ONLINE):
        interval = device.expected_interval_s or config.offline_after_s
        if ev.is_overdue(device.last_seen_at, interval, now):
            alerts += _mark_offline(device.pk, now, config)
    return alerts


@transaction.atomic
def _mark_offline(device_pk: UUID, now: dt.datetime, config: TelemetryConfig) -> list[Alert]:
    device = TelemetryDevice.objects.select_for_update().get(pk=device_pk)
    if device.status != DeviceStatus.ONLINE:
        return []
    device.status = DeviceStatus.OFFLINE
    device.save(update_fields=["status"])
    spec = ev.EventSpec(ev.OFFLINE, "silent", ev.WARNING, alert=True)
    event = _record_event(device, spec, now, now, False, None)
    return [_raise_alert(device, event, spec, now, config)] if event else []


@transaction.atomic
def purge_positions(now: dt.datetime | None = None) -> int:
    """Delete positions older than the retention period (an erasure in the ledger)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=get_config().retention_days)
    old = Position.objects.filter(fix_time__lt=cutoff)
    count = old.count()
    if count:
        Event.objects.filter(position__in=old).update(position=None)
        old.delete()
        ledger.record(
            actor=None,
            action=Action.ERASURE,
            object_type="telemetry_position",
            object_id="retention",
            fields=["positions"],
            justification="retention period ended",
            details={"before": cutoff.isoformat(), "count": count},
        )
    return count

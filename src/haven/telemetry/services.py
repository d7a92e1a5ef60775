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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone

from haven.access import modules
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.audit import ledger
from haven.audit.models import Action
from haven.authorisations import selectors as authority
from haven.authorisations import services as authorisations
from haven.concurrency.locking import ConflictError, check_version
from haven.concurrency.transactions import service
from haven.notifications import services as notifications
from haven.notifications.models import AlertCategory
from haven.revisions import refuse_unknown_fields

from . import escalation, rows
from . import events as ev
from . import fence_index as fence_index_keeper
from . import geofence as gf
from .config import TelemetryConfig, get_config
from .models import (
    ALERT,
    ALERT_TRANSITIONS,
    DEVICE,
    GEOFENCE,
    OPEN_ALERT_STATUSES,
    Alert,
    AlertAcknowledgement,
    AlertStatus,
    CaseTeamRole,
    DeviceStatus,
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    Event,
    FenceKind,
    Geofence,
    PolicyAssignment,
    PolicySource,
    Position,
    TargetKind,
    TelemetryDevice,
    time_ordered_uuid,
)
from .protocols import SPEED_TO_MPS, Message, RejectCounter, Rejected
from .selectors import NotFound, may_acknowledge

log = logging.getLogger("haven.telemetry")
REJECTED = RejectCounter()  # process-wide counts of refused messages, by reason


class AlertNotFound(NotFound):
    """No such alert for this actor: a 404 for a page or the API, with no translation."""


# ------------------------------------------------------------------------------ registration


def _fail(field_name: str | None, message: str) -> ValidationError:
    return ValidationError({field_name: [message]} if field_name else message)


@service
def register_device(
    actor: User | None,
    *,
    device_id: str,
    name: str,
    kind: str,
    protects_person: bool = False,
    rota_name: str = "",
    asset_id: UUID | str | None = None,
    deployment_id: UUID | str | None = None,
    speed_unit: str = "",
    expected_interval_s: int | None = None,
) -> TelemetryDevice:
    """Register a tracker or alarm (actor None: the system, e.g. the equipment register)."""
    if actor is not None:
        modules.require_operations(actor)
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
    _fit(actor, device, deployment_id)
    device.full_clean()
    device.save()
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=DEVICE,
        object_id=device.pk,
        fields=["device_id", "kind", "protects_person", "rota_name", "positions"],
        details={
            "asset_id": str(asset_id) if asset_id else None,
            "deployment_id": str(device.deployment_id) if device.deployment_id else None,
            "case_id": str(device.case_id) if device.case_id else None,
        },
    )
    return device


def _fit(actor: User | None, device: TelemetryDevice, deployment_id: UUID | str | None) -> None:
    """Tie the device to the deployment it is fitted on (one the actor can see) and, through it,
    to the case that deployment protects; without one, the deployment its asset is on now."""
    from haven.equipment import selectors as equipment_selectors

    deployment = None
    if deployment_id:
        if actor is None:
            raise _fail("deployment_id", "Only a person can fit a device to a deployment")
        deployment = _visible_deployment(actor, deployment_id)
    elif device.asset_id is not None:
        deployment = equipment_selectors.live_deployment_for_asset_id(device.asset_id)
    device.deployment_id = deployment.pk if deployment is not None else None
    device.case_id = deployment.case_id if deployment is not None else None


def _visible_deployment(actor: User, deployment_id: UUID | str) -> Any:
    """The deployment a device or zone is tied to: one the actor can see, or a form error."""
    from haven.equipment import selectors as equipment_selectors

    try:
        return equipment_selectors.find_visible_deployment(actor, deployment_id)
    except Http404 as missing:
        raise _fail("deployment_id", "No such deployment") from missing


def _check_asset(actor: User, asset_id: UUID | str | None) -> UUID | None:
    if not asset_id:
        return None
    from haven.equipment import selectors as equipment_selectors

    try:
        return equipment_selectors.get_asset(actor, asset_id).pk
    except Http404 as missing:
        raise _fail("asset_id", "No such asset in the equipment register") from missing


class DeviceNotFound(NotFound):
    """No such device for this actor: a 404 for a page or the API, with no translation."""


def _device_for_update(device_pk: UUID | str) -> TelemetryDevice:
    try:
        return TelemetryDevice.objects.select_for_update().get(pk=device_pk, retired_at=None)
    except (TelemetryDevice.DoesNotExist, ValueError, ValidationError) as missing:
        raise DeviceNotFound("No such tracker or alarm") from missing


DEVICE_CHANGES = (
    "name",
    "kind",
    "protects_person",
    "rota_name",
    "speed_unit",
    "expected_interval_s",
)


@service
def update_device(
    actor: User,
    device_pk: UUID | str,
    *,
    version: int,
    asset_id: UUID | str | None = None,
    deployment_id: UUID | str | None = None,
    **changes: Any,
) -> TelemetryDevice:
    """Change a device's details and where it is fitted. Its reporting id stays: a new id is a
    new device (its positions and events belong to the old one)."""
    modules.require_operations(actor)
    refuse_unknown_fields(changes, DEVICE_CHANGES)
    device = _device_for_update(device_pk)
    check_version(device.version, version, "device")
    before = {name: getattr(device, name) for name in DEVICE_CHANGES}
    for name, value in changes.items():
        setattr(device, name, value.strip()[:120] if isinstance(value, str) else value)
    device.asset_id = _check_asset(actor, asset_id)
    _fit(actor, device, deployment_id)
    device.full_clean()
    device.version += 1
    device.save()
    changed = [name for name in DEVICE_CHANGES if getattr(device, name) != before[name]]
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=DEVICE,
        object_id=device.pk,
        fields=[*changed, "asset_id", "deployment_id", "case_id"],
        justification="tracker or alarm details changed",
        details={
            "asset_id": str(device.asset_id) if device.asset_id else None,
            "deployment_id": str(device.deployment_id) if device.deployment_id else None,
            "case_id": str(device.case_id) if device.case_id else None,
        },
    )
    return device


@service
def retire_device(actor: User, device_pk: UUID | str, *, version: int) -> TelemetryDevice:
    """Take a device out of service: its receiver refuses it from now on; its positions,
    events and alerts stay (retention applies to positions as before)."""
    modules.require_operations(actor)
    device = _device_for_update(device_pk)
    check_version(device.version, version, "device")
    device.active = False
    device.retired_at = timezone.now()
    device.version += 1
    device.save(update_fields=["active", "retired_at", "version"])
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=DEVICE,
        object_id=device.pk,
        fields=["active", "retired_at"],
        justification="tracker or alarm retired",
        details={"device": device.device_id},
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
    plain = (str(row.pk), row.kind, None, device_id, row.deployment_id, row.hysteresis_m)
    return fence_index_keeper.fence_from_values(
        (*plain, row.dwell_s, row.version, row.updated_at, row.active), row.area
    )


class FenceNotFound(NotFound):
    """No such zone for this actor: a 404 for a page or the API, with no translation."""


@dataclass(frozen=True)
class FenceLinks:
    """What a fence is attached to: one device, or the devices fitted on one deployment."""

    device: TelemetryDevice | None = None
    deployment_id: UUID | None = None


def _fence_links(
    actor: User | None, device: TelemetryDevice | None, deployment_id: UUID | str | None
) -> FenceLinks:
    if device is not None and deployment_id:
        raise _fail("deployment_id", "Attach the zone to a device or to a deployment, not both")
    if not deployment_id:
        return FenceLinks(device=device)
    if actor is None:
        raise _fail("deployment_id", "Only a person can attach a zone to a deployment")
    return FenceLinks(deployment_id=_visible_deployment(actor, deployment_id).pk)


def _check_fence(row: Geofence) -> None:
    if row.kind not in FenceKind.values:
        raise _fail("kind", "Choose a safe zone or an exclusion zone")
    if not row.name:
        raise _fail("name", "Enter a name for the zone")
    if row.hysteresis_m is not None and not 0 <= row.hysteresis_m <= 1000:
        raise _fail("hysteresis_m", "Enter a margin between 0 and 1,000 metres")
    if not 0 <= row.dwell_s <= 24 * 3600:
        raise _fail("dwell_s", "Enter a dwell time between 0 and 86,400 seconds")
    try:
        gf.CompiledFence.build(fence_from_row(row))
    except (ValueError, KeyError, TypeError) as error:
        raise _fail("area", f"Not a usable fence: {error}") from error


def _fence_details(row: Geofence) -> dict[str, Any]:
    return {
        "device": str(row.device_id) if row.device_id else None,
        "deployment": str(row.deployment_id) if row.deployment_id else None,
        "shape": "polygon" if "polygon" in (row.area or {}) else "circle",
        "hysteresis_m": row.hysteresis_m,
        "dwell_s": row.dwell_s,
    }


@service
def create_geofence(
    actor: User | None,
    *,
    name: str,
    kind: str,
    area: dict[str, Any],
    device: TelemetryDevice | None = None,
    deployment_id: UUID | str | None = None,
    hysteresis_m: float | None = None,
    dwell_s: int | None = None,
) -> Geofence:
    """A safe or exclusion zone. ``dwell_s`` None: the configured default
    (TelemetryConfig.geofence_dwell_s); ``hysteresis_m`` None: the configured margin."""
    if actor is not None:
        modules.require_operations(actor)
    links = _fence_links(actor, device, deployment_id)
    row = Geofence(
        name=(name or "").strip()[:120],
        kind=kind,
        area=area,
        device=links.device,
        deployment_id=links.deployment_id,
        hysteresis_m=hysteresis_m,
        dwell_s=get_config().geofence_dwell_s if dwell_s is None else dwell_s,
    )
    _check_fence(row)
    row.save()
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=GEOFENCE,
        object_id=row.pk,
        fields=["name", "kind", "area"],
        details=_fence_details(row),
    )
    invalidate_fences()
    return row


def _fence_for_update(fence_id: UUID | str) -> Geofence:
    try:
        return Geofence.objects.select_for_update().get(pk=fence_id, active=True)
    except (Geofence.DoesNotExist, ValueError, ValidationError) as missing:
        raise FenceNotFound("No such zone") from missing


@service
def update_geofence(
    actor: User,
    fence_id: UUID | str,
    *,
    version: int,
    name: str,
    kind: str,
    area: dict[str, Any],
    device: TelemetryDevice | None = None,
    deployment_id: UUID | str | None = None,
    hysteresis_m: float | None = None,
    dwell_s: int = 0,
) -> Geofence:
    """Change a zone (its shape, links, margins). ``updated_at`` and ``version`` move on every
    change: that is how every receiver's fence index finds it (haven.telemetry.fence_index)."""
    modules.require_operations(actor)
    row = _fence_for_update(fence_id)
    check_version(row.version, version, "zone")
    links = _fence_links(actor, device, deployment_id)
    row.name, row.kind, row.area = (name or "").strip()[:120], kind, area
    row.device, row.deployment_id = links.device, links.deployment_id
    row.hysteresis_m, row.dwell_s = hysteresis_m, dwell_s
    _check_fence(row)
    row.version += 1
    row.updated_at = timezone.now()
    row.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=GEOFENCE,
        object_id=row.pk,
        fields=["name", "kind", "area", "links", "hysteresis_m", "dwell_s"],
        justification="zone changed",
        details=_fence_details(row),
    )
    invalidate_fences()
    return row


@service
def retire_geofence(actor: User, fence_id: UUID | str, *, version: int) -> Geofence:
    """Stop using a zone; its past events keep pointing at it."""
    modules.require_operations(actor)
    row = _fence_for_update(fence_id)
    check_version(row.version, version, "zone")
    row.active = False
    row.version += 1
    row.updated_at = timezone.now()
    row.save(update_fields=["active", "version", "updated_at"])
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=GEOFENCE,
        object_id=row.pk,
        fields=["active"],
        justification="zone retired",
        details={"name": row.name},
    )
    invalidate_fences()
    return row


# ------------------------------------------------------------------------------ fence index

FENCE_CACHE_SECONDS = 2.0  # how often a receiver looks for changed fences (fence_index)


def invalidate_fences() -> None:
    """This process changed a fence: its receivers look for changes at their next batch (in
    the background: the batch in hand is evaluated against the index it holds)."""
    fence_index_keeper.KEEPER.mark_due()


def reset_fences() -> None:
    """Forget the index altogether (tests: each starts from a fresh database)."""
    fence_index_keeper.KEEPER.reset()


def fence_index() -> gf.FenceIndex:
    """All active fences in one STRtree, as this process holds them now: never waits for a
    rebuild (see haven.telemetry.fence_index)."""
    return fence_index_keeper.KEEPER.current()


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
class NewPosition:
    """A position stored by this batch: its plaintext values by field name. The row is written
    without a model instance (rows.write_batch); the instance exists only when asked for
    (an event points at it, a caller reads it)."""

    device: TelemetryDevice
    values: dict[str, Any]
    _instance: Position | None = field(default=None, repr=False)

    def instance(self) -> Position:
        if self._instance is None:
            self._instance = rows.position_instance(self.device, self.values)
        return self._instance


@dataclass
class IngestResult:
    device: TelemetryDevice
    stored: NewPosition | None = None
    duplicate: bool = False
    late: bool = False
    # Reported for a time outside every authorised period of its covert deployment: kept apart
    # (haven.authorisations quarantine), not stored as a position.
    quarantined: bool = False
    events: list[Event] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    @property
    def position(self) -> Position | None:
        """The position this message stored (None for a resend or a message without a fix)."""
        return self.stored.instance() if self.stored is not None else None


def find_device(device_id: str) -> TelemetryDevice | None:
    return TelemetryDevice.objects.filter(device_id=device_id, active=True).first()


Outcome = IngestResult | Rejected
# The device columns an ingest changes, written back once per batch (rows.write_batch).
DEVICE_STATE = (
    "status",
    "last_fix_at",
    "last_seen_at",
    "battery_level",
    "battery_low",
    "inside_fences",
    "pending_fences",
    "vehicle_state",
)


def ingest(
    message: Message,
    *,
    received_at: dt.datetime | None = None,
    config: TelemetryConfig | None = None,
) -> IngestResult:
    """Store one message and raise its events and alerts. Idempotent: a resend of the same
    (device, fix time) stores nothing new. Raises Rejected("unknown_device") / ("flood")."""
    [outcome] = ingest_batch([message], received_at=received_at, config=config)
    if isinstance(outcome, Rejected):
        raise outcome
    return outcome


def ingest_batch(
    messages: Sequence[Message],
    *,
    received_at: dt.datetime | Sequence[dt.datetime] | None = None,
    config: TelemetryConfig | None = None,
) -> list[Outcome]:
    """Store many messages in ONE transaction, exactly as if :func:`ingest` stored them one by
    one in this order (idempotent on (device, fix time), within the batch too; alarms always
    alert). One outcome per message, in order: its IngestResult, or the Rejected (unknown
    device, flood) that refused it alone. A database error raises and rolls back the whole
    batch: nothing is stored, so the senders' retries are safe (storing is idempotent)."""
    config = config or get_config()
    times = _received_times(len(messages), received_at)
    outcomes: list[Outcome | None] = [None] * len(messages)
    items: list[_Item] = []
    for slot, (message, at) in enumerate(zip(messages, times, strict=True)):
        # Alarms always pass; so does a sender that waits for its acknowledgement (MQTT QoS 1:
        # the broker holds the rest back), which must not be told "stored" and dropped.
        if (
            message.alarms
            or message.back_pressure
            or FLOOD.allow(message.device_id, config.flood_per_device_per_minute)
        ):
            items.append(_Item(slot, message, at, message.fix_time or at))
        else:
            outcomes[slot] = Rejected("flood", message.device_id[:80], status=429)
    if items:
        for item in _store_batch(items, config):
            outcomes[item.slot] = item.outcome
    assert all(outcome is not None for outcome in outcomes)
    return outcomes  # type: ignore[return-value]


def _received_times(
    count: int, received_at: dt.datetime | Sequence[dt.datetime] | None
) -> list[dt.datetime]:
    if received_at is None or isinstance(received_at, dt.datetime):
        return [received_at or timezone.now()] * count
    if len(received_at) != count:
        raise ValueError("one reception time per message")
    return list(received_at)


@dataclass
class _Item:
    """One message of a batch on its way through _store_batch."""

    slot: int  # where its outcome goes in ingest_batch's answer
    message: Message
    received_at: dt.datetime
    fix_time: dt.datetime
    outcome: Outcome | None = None
    specs: list[ev.EventSpec] = field(default_factory=list)


@dataclass
class _Batch:
    config: TelemetryConfig
    # (device pk, fix time) already stored, in the database or earlier in this batch.
    stored: set[tuple[UUID, dt.datetime]]
    fences: gf.FenceIndex | None = None
    near: dict[int, list[gf.CompiledFence]] = field(default_factory=dict)  # by item slot
    previous: dict[int, gf.Fix] = field(default_factory=dict)  # segment start, by item slot
    positions: list[NewPosition] = field(default_factory=list)
    # Covert trackers' authorised periods, by device pk (absent: under no authorisation).
    authority: dict[UUID, list[authority.Window]] = field(default_factory=dict)
    outside: list[authorisations.OutsideReport] = field(default_factory=list)
    # Each device's newest fix stored by this batch, for LAST_FIXES once it has committed.
    last_fixes: dict[UUID, tuple[dt.datetime, gf.Fix | None]] = field(default_factory=dict)


@service
def _store_batch(items: list[_Item], config: TelemetryConfig) -> list[_Item]:
    devices = _lock_devices({item.message.device_id for item in items})
    known: list[_Item] = []
    for item in items:
        if item.message.device_id in devices:
            known.append(item)
        else:
            log.warning(
                "telemetry: message from unknown device %r refused", item.message.device_id[:80]
            )
            item.outcome = Rejected("unknown_device", item.message.device_id[:80])
    batch = _Batch(config, _stored_fixes(devices, known))
    batch.authority = authority.authority_for_devices(
        {device.pk: device.deployment_id for device in devices.values()}
    )
    _find_fences(batch, known, devices)
    for item in known:
        _apply(devices[item.message.device_id], item, batch)
    if batch.outside:
        authorisations.quarantine(batch.outside)
    if batch.last_fixes:
        transaction.on_commit(partial(LAST_FIXES.update, batch.last_fixes))
    # The common path in a few statements (rows); the rare one (events, alerts, ledger) as
    # before.
    rows.write_batch(
        [(p.device, p.values) for p in batch.positions],
        {item.message.device_id: devices[item.message.device_id] for item in known}.values(),
        DEVICE_STATE,
    )
    with_specs = [(devices[item.message.device_id], item) for item in known if item.specs]
    if with_specs:
        lookups = _Lookups.gather(
            [(device, item.fix_time, item.specs) for device, item in with_specs]
        )
        for device, item in with_specs:
            _record_specs(device, item, config, lookups)
    return items


def _lock_devices(device_ids: set[str]) -> dict[str, TelemetryDevice]:
    """The device rows are the per-device lock (one batch at a time per device, messages in
    order). All of a batch's rows are locked in one statement in primary key order, so two
    batches sharing devices wait for each other instead of deadlocking."""
    return {device.device_id: device for device in rows.lock_devices(device_ids)}


def _has_fix(message: Message) -> bool:
    return message.kind == "position" and message.has_fix


def _kept_without_fix(message: Message) -> bool:
    """A report without a usable fix that still carries data (a heartbeat with cell, Wi-Fi,
    ignition..., an alarm, a dropped fix's fields): kept as a position without coordinates."""
    return (
        message.kind == "position"
        and not message.has_fix
        and bool(message.attributes or message.alarms or message.battery is not None)
    )


def _stored_fixes(
    devices: dict[str, TelemetryDevice], items: list[_Item]
) -> set[tuple[UUID, dt.datetime]]:
    """The stored fixes a message of this batch could be a resend of. Only a fix no newer than
    its device's last one can be (in steady streams none is: no query at all)."""
    maybe: set[tuple[UUID, dt.datetime]] = set()
    for item in items:
        device = devices[item.message.device_id]
        last = device.last_fix_at
        if _has_fix(item.message) and last is not None and item.fix_time <= last:
            maybe.add((device.pk, item.fix_time))
        elif _kept_without_fix(item.message):  # heartbeats do not move last_fix_at
            maybe.add((device.pk, item.fix_time))
    if not maybe:
        return set()
    found = Position.objects.filter(
        device_id__in={pk for pk, _ in maybe}, fix_time__in={at for _, at in maybe}
    ).values_list("device_id", "fix_time")
    return {(pk, at) for pk, at in found} & maybe


def _find_fences(batch: _Batch, items: list[_Item], devices: dict[str, TelemetryDevice]) -> None:
    """The fences near every fix of the batch, and near the segment from the device's previous
    fix to it, in one index query (the index itself is looked up once per batch)."""
    if not any(_has_fix(item.message) for item in items):
        return
    batch.fences = fence_index()
    if not len(batch.fences):
        return
    rules = _rules(batch.config)
    last = _previous_fixes(devices, items)
    fixes: list[tuple[int, tuple[float, float, float]]] = []
    starts: list[tuple[float, float] | None] = []
    for item in items:
        message = item.message
        usable = _has_fix(message) and message.valid
        margin = gf.margin_m(message.accuracy, rules) if usable else None
        if margin is None:
            continue
        assert message.lat is not None and message.lon is not None
        key = devices[message.device_id].pk
        previous = last.get(key)
        start = None
        if previous is not None and previous.at is not None and item.fix_time > previous.at:
            batch.previous[item.slot] = previous
            start = (previous.lat, previous.lon)
        if previous is None or previous.at is None or item.fix_time >= previous.at:
            last[key] = gf.Fix(message.lat, message.lon, message.accuracy, item.fix_time)
        fixes.append((item.slot, (message.lat, message.lon, margin)))
        starts.append(start)
    found = batch.fences.near_many([fix for _, fix in fixes], starts)
    batch.near = {slot: near for (slot, _), near in zip(fixes, found, strict=True)}


class LastFixes:
    """Each device's fix at its ``last_fix_at`` as this process last stored or read it: (that
    time, the fix, or None when it was not a valid fix), by device pk. An entry counts only when
    its time is the device's ``last_fix_at`` read under the row lock: (device, fix time) names
    one stored row, which never changes, so an entry another process has overtaken simply
    misses. Entries of a batch are added once it has committed. Saves every batch the query
    (and, for a protected person's tracker, the decryption) of each device's previous fix."""

    LIMIT = 200_000  # devices remembered (then forgotten all at once)

    def __init__(self) -> None:
        self.known: dict[UUID, tuple[dt.datetime, gf.Fix | None]] = {}

    def get(self, device_pk: UUID, at: dt.datetime) -> tuple[bool, gf.Fix | None]:
        entry = self.known.get(device_pk)
        if entry is None or entry[0] != at:
            return False, None
        return True, entry[1]

    def update(self, entries: dict[UUID, tuple[dt.datetime, gf.Fix | None]]) -> None:
        if len(self.known) + len(entries) > self.LIMIT:
            self.known.clear()
        self.known.update(entries)

    def clear(self) -> None:
        self.known.clear()


LAST_FIXES = LastFixes()


def _previous_fixes(devices: dict[str, TelemetryDevice], items: list[_Item]) -> dict[UUID, gf.Fix]:
    """Each device's last stored fix (at its last_fix_at), when valid: the start of the segment
    to its next fix. From :data:`LAST_FIXES`, else one indexed query per batch for the rest
    (the fixes are unique per device and time)."""
    wanted: set[tuple[UUID, dt.datetime]] = set()
    for item in items:
        device = devices[item.message.device_id]
        if _has_fix(item.message) and device.last_fix_at is not None:
            wanted.add((device.pk, device.last_fix_at))
    found: dict[UUID, gf.Fix] = {}
    missing: set[tuple[UUID, dt.datetime]] = set()
    for pk, at in wanted:
        hit, fix = LAST_FIXES.get(pk, at)
        if not hit:
            missing.add((pk, at))
        elif fix is not None:
            found[pk] = fix
    if not missing:
        return found
    stored = rows.valid_fixes({pk for pk, _ in missing}, {at for _, at in missing})
    read: dict[UUID, tuple[dt.datetime, gf.Fix | None]] = {pk: (at, None) for pk, at in missing}
    for device_pk, at, fix in stored:
        if (device_pk, at) in missing:
            found[device_pk] = fix
            read[device_pk] = (at, fix)
    LAST_FIXES.update(read)  # committed rows (this batch has written nothing yet)
    return found


def _rules(config: TelemetryConfig) -> gf.Rules:
    return gf.Rules(config.geofence_min_accuracy_m, config.geofence_hysteresis_m)


def _store_position(
    device: TelemetryDevice, item: _Item, batch: _Batch, result: IngestResult
) -> None:
    """Keep the message as a position, unless the batch already holds one of this device at
    this fix time (a resend): then it is a duplicate."""
    if (device.pk, item.fix_time) in batch.stored:
        result.duplicate = True
        return
    result.stored = _new_position(
        device, item.message, item.fix_time, item.received_at, result.late
    )
    batch.positions.append(result.stored)
    batch.stored.add((device.pk, item.fix_time))


def _apply(device: TelemetryDevice, item: _Item, batch: _Batch) -> None:
    """One message against its device's state, in memory: the rules of ingest()."""
    message, fix_time, config = item.message, item.fix_time, batch.config
    in_order = device.last_fix_at is None or fix_time >= device.last_fix_at
    late = ev.is_late(fix_time, item.received_at, device.last_fix_at, config.late_after_s)
    result = item.outcome = IngestResult(device=device, late=late)
    windows = batch.authority.get(device.pk)
    if windows is not None and message.kind == "position":
        if not authority.covered(windows, fix_time):
            _keep_apart(device, item, batch)
            return
    if _has_fix(message):
        _store_position(device, item, batch, result)
        # A fix the device itself calls invalid never moves it across a fence.
        if in_order and not result.duplicate and message.valid:
            item.specs += _fence_specs(device, item, batch)
    elif _kept_without_fix(message):
        _store_position(device, item, batch, result)
    if message.kind == "lwt":
        item.specs.append(ev.EventSpec(ev.OFFLINE, "lwt", ev.WARNING, alert=True))
    elif message.kind == "transition":
        item.specs.append(ev.EventSpec(ev.REGION, (message.event or "")[:20]))
    if in_order and message.battery is not None and not result.duplicate:
        item.specs += _battery_specs(device, message.battery, config)
    # Alarms always count: late, out of order, without a fix, or on a resent position.
    item.specs += ev.alarm_events(message.alarms)
    if in_order and not result.duplicate:
        item.specs += _vehicle_specs(device, message, config)
    item.specs += _status_specs(device, message)
    device.last_seen_at = item.received_at
    if _has_fix(message) and in_order:
        device.last_fix_at = fix_time
        if not result.duplicate:
            assert message.lat is not None and message.lon is not None
            fix = gf.Fix(message.lat, message.lon, message.accuracy, fix_time)
            batch.last_fixes[device.pk] = (fix_time, fix if message.valid else None)


def _keep_apart(device: TelemetryDevice, item: _Item, batch: _Batch) -> None:
    """A covert tracker's report for a time no authorisation covers: handed to the register's
    quarantine whole, never stored as a position nor moving fences or state. Its alarms still
    alert (an alarm always alerts), at the last authorised position."""
    message = item.message
    assert isinstance(item.outcome, IngestResult)
    item.outcome.quarantined = True
    report = {
        "protocol": message.protocol,
        "lat": message.lat,
        "lon": message.lon,
        "accuracy": message.accuracy,
        "altitude": message.altitude,
        "speed_mps": message.speed_mps,
        "course": message.course,
        "battery": message.battery,
        "valid": message.valid,
        "alarms": list(message.alarms),
        "attributes": message.attributes,
    }
    batch.outside.append(
        authorisations.OutsideReport(
            device.pk,
            device.device_id,
            item.fix_time,
            item.received_at,
            report,
            gap=authority.gap_around(batch.authority.get(device.pk, []), item.fix_time),
        )
    )
    item.specs += ev.alarm_events(message.alarms)
    item.specs += _status_specs(device, message)
    device.last_seen_at = item.received_at


def _fence_specs(device: TelemetryDevice, item: _Item, batch: _Batch) -> list[ev.EventSpec]:
    message, index = item.message, batch.fences
    if index is None or not len(index):
        if device.inside_fences or device.pending_fences:  # every fence was removed
            device.inside_fences, device.pending_fences = [], {}
        return []
    assert message.lat is not None and message.lon is not None
    result = index.evaluate_fix(
        device.device_id,
        str(device.deployment_id) if device.deployment_id else None,
        device.inside_fences,
        device.pending_fences or {},
        gf.Fix(message.lat, message.lon, message.accuracy, item.fix_time),
        _rules(batch.config),
        previous=batch.previous.get(item.slot),
        near=batch.near.get(item.slot),
    )
    if result.inside != sorted(device.inside_fences):
        device.inside_fences = result.inside
    if result.pending != (device.pending_fences or {}):
        device.pending_fences = result.pending
    specs = []
    for fence_id, change in result.transitions:
        kind = index.by_id[fence_id].fence.kind if fence_id in index.by_id else "safe"
        if change == gf.CROSSED:
            specs.append(ev.crossing_event(fence_id, kind))
        else:
            specs.append(ev.geofence_event(fence_id, kind, change))
    return specs


def _battery_specs(
    device: TelemetryDevice, level: float, config: TelemetryConfig
) -> list[ev.EventSpec]:
    low, spec = ev.battery_event(level, device.battery_low, config)
    device.battery_level, device.battery_low = level, low
    return [spec] if spec else []


def _vehicle_specs(
    device: TelemetryDevice, message: Message, config: TelemetryConfig
) -> list[ev.EventSpec]:
    """Ignition, power and tow events from a vehicle tracker's IO (a late record never
    changes the state: it is older than what the state already says)."""
    if not any(key in message.attributes for key in ("ignition", "power", "motion")):
        return []
    state, specs = ev.vehicle_events(device.vehicle_state or {}, message.attributes, config)
    if state != device.vehicle_state:
        device.vehicle_state = state
    return specs


def _status_specs(device: TelemetryDevice, message: Message) -> list[ev.EventSpec]:
    if message.kind == "lwt":
        device.status = DeviceStatus.OFFLINE
        return []
    specs = [ev.EventSpec(ev.ONLINE)] if device.status == DeviceStatus.OFFLINE else []
    device.status = DeviceStatus.ONLINE
    return specs


def _new_position(
    device: TelemetryDevice,
    message: Message,
    fix_time: dt.datetime,
    received_at: dt.datetime,
    late: bool,
) -> NewPosition:
    speed = message.speed_mps
    if message.protocol in ("osmand-query", "osmand-form") and message.speed_raw is not None:
        speed = message.speed_raw * SPEED_TO_MPS.get(device.speed_unit, SPEED_TO_MPS["knots"])
    values = {
        "id": time_ordered_uuid(),
        "fix_time": fix_time,
        "received_at": received_at,
        "protocol": message.protocol,
        "late": late,
        "valid": message.valid and message.has_fix,
        "speed_mps": speed,
        "course": message.course,
        "battery": message.battery,
        "attributes": message.attributes,
    }
    where = (message.lat, message.lon, message.accuracy, message.altitude)
    if device.protects_person and message.has_fix:  # coordinates only sealed (encrypted)
        values.update(lat=None, lon=None, accuracy=None, altitude=None)
        values["sealed"] = dict(zip(("lat", "lon", "accuracy", "altitude"), where, strict=True))
    else:
        values.update(zip(("lat", "lon", "accuracy", "altitude"), where, strict=True))
        values["sealed"] = None  # (a report without a fix has no coordinates to seal)
    return NewPosition(device, values)


EventKey = tuple[UUID, str, str, dt.datetime]  # the event_once constraint's columns


@dataclass
class _Lookups:
    """What recording a batch's events and alerts reads, each read once per batch instead of
    once per event: the events already recorded, the names of the fences they name, and the
    technical supervisors."""

    recorded: set[EventKey]  # in the database, then also those this batch adds
    fence_names: dict[str, str]  # fence id -> name, for the fences that exist
    _supervisors: list[User] | None = None

    @classmethod
    def gather(
        cls, entries: Sequence[tuple[TelemetryDevice, dt.datetime, Sequence[ev.EventSpec]]]
    ) -> _Lookups:
        wanted = {
            (device.pk, spec.type, spec.key, at) for device, at, specs in entries for spec in specs
        }
        stored = Event.objects.filter(
            device_id__in={key[0] for key in wanted}, event_time__in={key[3] for key in wanted}
        ).values_list("device_id", "type", "key", "event_time")
        fence_ids = {
            spec.key
            for _, _, specs in entries
            for spec in specs
            if spec.key and spec.type in FENCE_EVENTS
        }
        names = Geofence.objects.filter(pk__in=fence_ids).values_list("pk", "name")
        recorded: set[EventKey] = {(pk, kind, key, at) for pk, kind, key, at in stored}
        fence_names = {str(pk): name for pk, name in names} if fence_ids else {}
        return cls(recorded & wanted, fence_names)

    def supervisors(self) -> list[User]:
        if self._supervisors is None:
            self._supervisors = supervisors()
        return self._supervisors


def _record_specs(
    device: TelemetryDevice, item: _Item, config: TelemetryConfig, lookups: _Lookups
) -> None:
    """The rare path, per message in arrival order: events (once each), alerts, ledger."""
    result = item.outcome
    assert isinstance(result, IngestResult)
    position, age = result.position, None
    if (position is None or position.point is None) and any(
        spec.type == ev.ALARM for spec in item.specs
    ):
        # An alarm without a fix of its own shows where the device was last, and how long ago.
        position, age = _last_known_position(device, item.fix_time)
    for spec in item.specs:
        event = _record_event(
            device, spec, item.fix_time, item.received_at, result.late, position, lookups
        )
        if event is None:
            continue  # the same event from a resent message: already recorded
        event.fix_invalid = bool(item.message.fix_problem)
        if age is not None and event.position_id is not None:
            event.position_age_s = age
        if event.fix_invalid or event.position_age_s is not None:
            event.save(update_fields=["fix_invalid", "position_age_s"])
        result.events.append(event)
        if spec.alert:
            alert = _raise_alert(device, event, spec, item.received_at, config, lookups)
            result.alerts.append(alert)


def _last_known_position(
    device: TelemetryDevice, at: dt.datetime
) -> tuple[Position | None, float | None]:
    """The device's latest valid fix up to `at` and its age then (seconds), or (None, None)."""
    last = (
        Position.objects.filter(device=device, fix_time__lte=at, valid=True)
        .filter(Q(lat__isnull=False) | Q(sealed__isnull=False))
        .order_by("-fix_time")
        .first()
    )
    if last is None:
        return None, None
    return last, round((at - last.fix_time).total_seconds(), 1)


def _record_event(
    device: TelemetryDevice,
    spec: ev.EventSpec,
    at: dt.datetime,
    received_at: dt.datetime,
    late: bool,
    position: Position | None,
    lookups: _Lookups,
) -> Event | None:
    key = (device.pk, spec.type, spec.key, at)
    if key in lookups.recorded:
        return None
    is_fence = spec.type in FENCE_EVENTS
    event = Event(
        device=device,
        type=spec.type,
        key=spec.key,
        event_time=at,
        received_at=received_at,
        late=late,
        severity=spec.severity,
        geofence_id=spec.key if is_fence and spec.key in lookups.fence_names else None,
        position=position,
    )
    event.save(force_insert=True)
    lookups.recorded.add(key)
    return event


FENCE_EVENTS = (ev.GEOFENCE_ENTER, ev.GEOFENCE_EXIT, ev.GEOFENCE_CROSSED)
TITLES = {
    ev.GEOFENCE_CROSSED: "Crossed exclusion zone",
    ev.ALARM: "Alarm {key}",
    ev.GEOFENCE_ENTER: "Entered exclusion zone",
    ev.GEOFENCE_EXIT: "Left safe zone",
    ev.LOW_BATTERY: "Low battery",
    ev.OFFLINE: "Device offline",
    ev.POWER_CUT: "External power cut",
    ev.TOW: "Moved with ignition off",
}


def _title(device: TelemetryDevice, spec: ev.EventSpec, event: Event, lookups: _Lookups) -> str:
    what = TITLES.get(spec.type, spec.type).format(key=spec.key.upper())
    if spec.type in FENCE_EVENTS and spec.key in lookups.fence_names:
        what += f" {lookups.fence_names[spec.key]}"
    marks = " (LATE)" if event.late else ""
    if event.fix_invalid:
        marks += " (invalid fix)"
    return f"{what} – {device.name}{marks}"[:200]


# ------------------------------------------------------------------------------ routing


def supervisors() -> list[User]:
    return escalation.supervisors()


def route(
    alert: Alert,
    level: int,
    at: dt.datetime,
    config: TelemetryConfig,
    everyone: Callable[[], list[User]] = supervisors,
) -> escalation.Route:
    """Who level `level` of the alert pages: its escalation policy's step, or (without one) the
    device's rota chain then the technical supervisors."""
    if alert.policy is not None:
        return escalation.policy_route(alert.policy, level, alert.case_id, at, everyone)
    wait = dt.timedelta(seconds=config.escalate_after_s)
    return escalation.rota_route(alert.device, level, at, wait, everyone)


def alert_link(alert: Alert) -> str:
    """Opens the alert (a GET: reading it never acknowledges it)."""
    return f"/operations/alerts/{alert.pk}/"


def alert_reference(alert: Alert) -> str:
    # The category already says "alert"; the reference is the id's first eight characters.
    return str(alert.pk)[:8]


def _deliver(alert: Alert, target: escalation.Route, now: dt.datetime) -> None:
    alert.routed_to = target.users[0] if target.users else None
    alert.routing = target.how[:200]
    alert.recipients = sorted(set(alert.recipients) | {u.pk for u in target.users})
    alert.escalate_at = None if target.wait is None else now + target.wait
    notifications.notify_each(
        target.users,
        AlertCategory.TELEMETRY,
        alert_reference(alert),
        f"ALERT: {alert.title}",
        alert_link(alert),
    )


def _tell_case_team(alert: Alert, paged: list[User]) -> list[User]:
    """A protected person's alarm: the case's lead officer and case manager are told at once
    (they may not be in operations, so the link opens the case, not the alert)."""
    team = [u for u in escalation.case_team(alert.case_id, escalation.CASE_TEAM_TOLD)]
    told = [u for u in team if u not in paged]
    notifications.notify_each(
        told,
        AlertCategory.TELEMETRY,
        alert_reference(alert),
        f"ALERT on a device protecting your case: {alert.title}. "
        "The technical on-call has been paged.",
        f"/cases/{alert.case_id}/",
    )
    return told


def _raise_alert(
    device: TelemetryDevice,
    event: Event,
    spec: ev.EventSpec,
    now: dt.datetime,
    config: TelemetryConfig,
    lookups: _Lookups,
) -> Alert:
    source = escalation.source_of(device, now)
    alert = Alert(
        event=event,
        device=device,
        severity=spec.severity,
        title=_title(device, spec, event, lookups),
        late=event.late,
        raised_at=now,
        policy=escalation.policy_for(source),
        deployment_id=source.deployment_id,
        case_id=source.case_id,
    )
    target = route(alert, 0, now, config, lookups.supervisors)
    alert.save(force_insert=True)  # before notify: the notification links to a saved alert
    _deliver(alert, target, now)
    alert.save(update_fields=["routed_to", "routing", "recipients", "escalate_at"])
    told = _tell_case_team(alert, target.users) if alert.case_id else []
    ledger.record(
        actor=None,
        action=Action.COLLECTION,
        object_type=ALERT,
        object_id=alert.pk,
        fields=["alert"],
        recipients=[u.username for u in [*target.users, *told]],
        justification="telemetry alert raised",
        details={
            "device": device.device_id,
            "event": event.type,
            "key": event.key,
            "late": event.late,
            "fix_invalid": event.fix_invalid,
            "event_time": event.event_time.isoformat(),
            "routing": target.how,
            "policy": alert.policy.name if alert.policy else None,
            "case_team_told": len(told),
        },
    )
    return alert


# ------------------------------------------------------------------------------ people


def _alert_to_move(actor: User, alert_id: UUID | str, to: AlertStatus, done: str) -> Alert:
    """The alert, locked, if `actor` may acknowledge or resolve it and it may move `to`."""
    try:
        alert = Alert.objects.select_for_update().get(pk=alert_id)
    except (Alert.DoesNotExist, ValueError, ValidationError) as missing:
        raise AlertNotFound("No such alert") from missing
    if not may_acknowledge(actor, alert):
        raise AlertNotFound("No such alert")
    if not ALERT_TRANSITIONS.allows(alert.status, to):
        raise ConflictError(f"This alert was already {done}")
    return alert


@service
def acknowledge(actor: User, alert_id: UUID | str, note: str = "") -> Alert:
    alert = _alert_to_move(actor, alert_id, AlertStatus.ACKNOWLEDGED, "acknowledged")
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


@service
def resolve(actor: User, alert_id: UUID | str, note: str = "") -> Alert:
    """Close an alert (acknowledged or not): paging stops and it leaves the open list."""
    alert = _alert_to_move(actor, alert_id, AlertStatus.RESOLVED, "resolved")
    now = timezone.now()
    was_open = alert.is_open
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = now
    alert.resolved_by = actor
    alert.escalate_at = None
    alert.save(update_fields=["status", "resolved_at", "resolved_by", "escalate_at"])
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=ALERT,
        object_id=alert.pk,
        fields=["status", "resolution"],
        justification=f"alert resolved{': ' + note.strip()[:200] if note.strip() else ''}",
        details={
            "seconds_to_resolve": round((now - alert.raised_at).total_seconds(), 1),
            "unacknowledged": was_open,
        },
    )
    return alert


@service
def escalate(alert_id: UUID | str, now: dt.datetime | None = None) -> Alert | None:
    """Move one unacknowledged alert to the next level; None if it no longer needs it."""
    now = now or timezone.now()
    config = get_config()
    alert = (
        Alert.objects.select_for_update()
        .select_related("device")  # not the (nullable) policy: no FOR UPDATE on an outer join
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or alert.escalate_at is None:
        return None
    if not ALERT_TRANSITIONS.allows(alert.status, AlertStatus.ESCALATED):
        return None
    if alert.escalate_at > now:
        return None
    alert.escalation_level += 1
    alert.status = AlertStatus.ESCALATED
    target = route(alert, alert.escalation_level, now, config)
    _deliver(alert, target, now)
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


@service
def _mark_offline(device_pk: UUID, now: dt.datetime, config: TelemetryConfig) -> list[Alert]:
    device = TelemetryDevice.objects.select_for_update().get(pk=device_pk)
    if device.status != DeviceStatus.ONLINE:
        return []
    device.status = DeviceStatus.OFFLINE
    device.save(update_fields=["status"])
    spec = ev.EventSpec(ev.OFFLINE, "silent", ev.WARNING, alert=True)
    lookups = _Lookups.gather([(device, now, [spec])])
    event = _record_event(device, spec, now, now, False, None, lookups)
    return [_raise_alert(device, event, spec, now, config, lookups)] if event else []


@service
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


# ------------------------------------------------------------------------ escalation policies


POLICY = "escalation_policy"


@dataclass(frozen=True)
class TargetSpec:
    kind: str
    rota_name: str = ""
    user_id: int | None = None
    team_role: str = ""


def _policy_for_update(policy_id: UUID | str) -> EscalationPolicy:
    try:
        return EscalationPolicy.objects.select_for_update().get(pk=policy_id)
    except (EscalationPolicy.DoesNotExist, ValueError, ValidationError) as missing:
        raise PolicyNotFound("No such escalation policy") from missing


class PolicyNotFound(NotFound):
    """No such policy, step or assignment: a 404 for a page or the API (selectors.NotFound)."""


def _record_policy(actor: User, policy: EscalationPolicy, what: str, **details: Any) -> None:
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=POLICY,
        object_id=policy.pk,
        fields=["escalation_policy"],
        justification=what,
        details={"name": policy.name, **details},
    )


def _settle_default(policy: EscalationPolicy, is_default: bool) -> None:
    """At most one default: making this one the default unsets the old one."""
    if is_default:
        EscalationPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).update(
            is_default=False
        )
    policy.is_default = is_default


def _check_policy_fields(name: str, repeat: int, exclude: UUID | None = None) -> str:
    name = name.strip()
    if not name:
        raise _fail("name", "Enter a name for the policy")
    others = EscalationPolicy.objects.filter(name__iexact=name)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise _fail("name", "A policy with this name already exists")
    if not 0 <= repeat <= 10:
        raise _fail("repeat", "Repeat the steps between 0 and 10 more times")
    return name


@service
def create_policy(
    actor: User, *, name: str, description: str = "", repeat: int = 0, is_default: bool = False
) -> EscalationPolicy:
    modules.require_technical_supervisor(actor)
    policy = EscalationPolicy(
        name=_check_policy_fields(name, repeat),
        description=description.strip()[:300],
        repeat=repeat,
    )
    _settle_default(policy, is_default)
    policy.save()
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=POLICY,
        object_id=policy.pk,
        fields=["escalation_policy"],
        justification="escalation policy created",
        details={"name": policy.name, "repeat": repeat, "default": is_default},
    )
    return policy


@service
def update_policy(
    actor: User,
    policy_id: UUID | str,
    *,
    version: int,
    name: str,
    description: str = "",
    repeat: int = 0,
    is_default: bool = False,
) -> EscalationPolicy:
    modules.require_technical_supervisor(actor)
    policy = _policy_for_update(policy_id)
    check_version(policy.version, version, "escalation policy")
    policy.name = _check_policy_fields(name, repeat, exclude=policy.pk)
    policy.description = description.strip()[:300]
    policy.repeat = repeat
    _settle_default(policy, is_default)
    policy.version += 1
    policy.save()
    _record_policy(actor, policy, "escalation policy changed", repeat=repeat, default=is_default)
    return policy


def _check_target(spec: TargetSpec) -> TargetSpec:
    if spec.kind == TargetKind.ON_CALL:
        from haven.rota import selectors as rota_selectors

        if not spec.rota_name or rota_selectors.find_rota(spec.rota_name) is None:
            raise _fail("rota_name", "Choose a rota")
    elif spec.kind == TargetKind.USER:
        person = (
            User.objects.filter(pk=spec.user_id, is_active=True).first() if spec.user_id else None
        )
        if person is None or not person.can_use(Module.OPERATIONS):
            raise _fail("user", "Choose a person in operations")
    elif spec.kind == TargetKind.CASE_TEAM:
        if spec.team_role not in CaseTeamRole.values:
            raise _fail("team_roles", "Choose a case-team role")
    elif spec.kind != TargetKind.SUPERVISORS:
        raise _fail(None, f"Unknown target {spec.kind}")
    return spec


@service
def add_step(
    actor: User, policy_id: UUID | str, *, delay_seconds: int, targets: Sequence[TargetSpec]
) -> EscalationStep:
    """Add a step at the end of the ladder: its targets, and how long they have to
    acknowledge before the next step is paged."""
    modules.require_technical_supervisor(actor)
    policy = _policy_for_update(policy_id)
    if not targets:
        raise _fail(None, "Choose at least one person or group to page")
    if not 0 <= delay_seconds <= 24 * 3600:
        raise _fail("delay_minutes", "Enter a delay between 0 and 1,440 minutes")
    checked = [_check_target(spec) for spec in targets]
    last = policy.steps.aggregate(last=Max("position"))["last"] or 0
    step = EscalationStep.objects.create(
        policy=policy, position=last + 1, delay_seconds=delay_seconds
    )
    EscalationTarget.objects.bulk_create(
        EscalationTarget(
            step=step,
            kind=spec.kind,
            rota_name=spec.rota_name if spec.kind == TargetKind.ON_CALL else "",
            user_id=spec.user_id if spec.kind == TargetKind.USER else None,
            team_role=spec.team_role if spec.kind == TargetKind.CASE_TEAM else "",
        )
        for spec in checked
    )
    policy.version += 1
    policy.save(update_fields=["version"])
    _record_policy(
        actor,
        policy,
        "escalation step added",
        step=step.position,
        delay_seconds=delay_seconds,
        targets=[spec.kind for spec in checked],
    )
    return step


@service
def remove_step(actor: User, policy_id: UUID | str, step_id: int | str) -> None:
    modules.require_technical_supervisor(actor)
    policy = _policy_for_update(policy_id)
    step = policy.steps.filter(pk=step_id).first()
    if step is None:
        raise PolicyNotFound("No such step")
    position = step.position
    step.delete()
    for later in policy.steps.filter(position__gt=position).order_by("position"):
        later.position -= 1
        later.save(update_fields=["position"])
    policy.version += 1
    policy.save(update_fields=["version"])
    _record_policy(actor, policy, "escalation step removed", step=position)


def _check_source(actor: User, source: str, source_id: UUID) -> None:
    if source == PolicySource.DEVICE:
        if not TelemetryDevice.objects.filter(pk=source_id).exists():
            raise _fail("source_id", "No such tracker or alarm")
    elif source == PolicySource.DEPLOYMENT:
        from haven.equipment import selectors as equipment_selectors

        try:
            equipment_selectors.find_visible_deployment(actor, source_id)
        except Http404 as missing:
            raise _fail("source_id", "No such deployment") from missing
    elif source == PolicySource.CASE:
        # Operations never reads a case: a case is chosen through a deployment that protects it.
        from haven.equipment import selectors as equipment_selectors

        if not equipment_selectors.deployments_visible_to(actor).filter(case_id=source_id).exists():
            raise _fail("source_id", "No deployment you can see protects this case")
    else:
        raise _fail("source", "Choose a device, deployment or case")


@service
def assign_policy(
    actor: User, policy_id: UUID | str, *, source: str, source_id: UUID
) -> PolicyAssignment:
    """Use this policy for the source's alerts (replacing the policy it had)."""
    modules.require_technical_supervisor(actor)
    policy = _policy_for_update(policy_id)
    _check_source(actor, source, source_id)
    assignment, _ = PolicyAssignment.objects.update_or_create(
        source=source,
        source_id=source_id,
        defaults={"policy": policy, "assigned_at": timezone.now()},
    )
    _record_policy(
        actor, policy, "escalation policy assigned", source=source, source_id=str(source_id)
    )
    return assignment


@service
def unassign_policy(actor: User, policy_id: UUID | str, assignment_id: int | str) -> None:
    modules.require_technical_supervisor(actor)
    policy = _policy_for_update(policy_id)
    assignment = policy.assignments.filter(pk=assignment_id).first()
    if assignment is None:
        raise PolicyNotFound("No such assignment")
    assignment.delete()
    _record_policy(
        actor,
        policy,
        "escalation policy unassigned",
        source=assignment.source,
        source_id=str(assignment.source_id),
    )

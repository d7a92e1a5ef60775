"""Telemetry: registered devices, positions, geofences, events and alerts.

Positions are stored once per (device, fix time): resends and late backfill are normal. Where a
device protects a person its coordinates (and the raw attributes, which may carry cell/Wi-Fi
identifiers) are encrypted with the vault; plain columns stay empty.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from haven.vault.fields import EncryptedJSONField
from haven.workflow import TransitionTable

DEVICE = "telemetry_device"
ALERT = "telemetry_alert"
GEOFENCE = "telemetry_geofence"


class DeviceKind(models.TextChoices):
    VEHICLE_TRACKER = "vehicle_tracker", "Vehicle tracker"
    PROPERTY_TRACKER = "property_tracker", "Property tracker"
    PANIC_ALARM = "panic_alarm", "Panic alarm"
    PHONE = "phone", "Phone (OwnTracks / Traccar Client)"


class SpeedUnit(models.TextChoices):
    KNOTS = "knots", "Knots (Traccar default)"
    KMH = "kmh", "km/h"
    MPS = "mps", "m/s (OsmAnd app)"
    MPH = "mph", "mph"


class DeviceStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not heard from yet"
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"


def time_ordered_uuid() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): Unix milliseconds in the top 48 bits, 74 random bits below.
    Positions are inserted in about time order, so their primary key index grows at its right
    edge instead of dirtying a random page of a huge index for every row (uuid4)."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 4122 variant
    return uuid.UUID(int=value)


class TelemetryDevice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device_id = models.CharField(
        max_length=80, unique=True, help_text="Identifier the device reports with"
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=DeviceKind.choices)
    # The equipment register's asset (haven.equipment Asset.id), by id only.
    asset_id = models.UUIDField(null=True, blank=True, db_index=True)
    # Where it is fitted: the deployment (haven.equipment) and the protection case that
    # deployment protects, by id only (operations never reads a case).
    deployment_id = models.UUIDField(null=True, blank=True, db_index=True)
    case_id = models.UUIDField(null=True, blank=True, db_index=True)
    # Alerts go to whoever is on call on this rota (haven.rota, looked up by name).
    rota_name = models.CharField(max_length=120, blank=True)
    protects_person = models.BooleanField(
        default=False, help_text="Coordinates are encrypted at rest"
    )
    speed_unit = models.CharField(max_length=8, choices=SpeedUnit.choices, default=SpeedUnit.KNOTS)
    expected_interval_s = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.UNKNOWN
    )
    last_fix_at = models.DateTimeField(null=True, blank=True)
    # Not indexed: every stored message updates the device's state, and an update that changes
    # no indexed column is a HOT update on PostgreSQL (no index entries; migration 0002 leaves
    # room in each page for it).
    last_seen_at = models.DateTimeField(null=True, blank=True)
    battery_level = models.FloatField(null=True, blank=True)
    battery_low = models.BooleanField(default=False)
    inside_fences = models.JSONField(default=list, blank=True)
    # Fences the device seems to have crossed but has not yet stayed across for their dwell
    # time: {fence id: ISO time of the first fix on the other side}.
    pending_fences = models.JSONField(default=dict, blank=True)
    # A vehicle tracker's last IO state (ignition, external power, towing), to turn its changes
    # into events: {"ignition": bool, "power_cut": bool, "towing": bool}.
    vehicle_state = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.device_id})"


class FenceKind(models.TextChoices):
    SAFE = "safe", "Safe zone (alert on exit)"
    EXCLUSION = "exclusion", "Exclusion zone (alert on entry)"


class Geofence(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=FenceKind.choices)
    # {"circle": {"lat":..,"lon":..,"radius_m":..}} or {"polygon": [[lat, lon], ...]}: encrypted
    # (a safe zone is where a protected person lives).
    area = EncryptedJSONField()
    device = models.ForeignKey(
        TelemetryDevice,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="geofences",
        help_text="Empty: the fence applies to every device (or to the deployment's devices)",
    )
    # Attached to a deployment (haven.equipment, by id): applies to the devices fitted on it.
    deployment_id = models.UUIDField(null=True, blank=True, db_index=True)
    # Empty: the configured default (TelemetryConfig.geofence_hysteresis_m).
    hysteresis_m = models.FloatField(null=True, blank=True)
    # A crossing counts once the device has stayed across this long (0: at once).
    dwell_s = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Moves on every change: indexed, since each receiver looks for the fences changed lately.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Position(models.Model):
    id = models.UUIDField(primary_key=True, default=time_ordered_uuid, editable=False)
    # No index of its own: position_once_per_fix (device, fix_time) serves lookups by device.
    device = models.ForeignKey(
        TelemetryDevice, on_delete=models.CASCADE, related_name="positions", db_index=False
    )
    fix_time = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    protocol = models.CharField(max_length=20)
    late = models.BooleanField(default=False)
    valid = models.BooleanField(default=True)
    # Plain coordinates for devices that protect nobody (vehicles, kit)...
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    accuracy = models.FloatField(null=True, blank=True)
    altitude = models.FloatField(null=True, blank=True)
    # ... sealed ones for devices that protect a person: {"lat","lon","accuracy","altitude"}.
    sealed = EncryptedJSONField(null=True, blank=True)
    speed_mps = models.FloatField(null=True, blank=True)
    course = models.FloatField(null=True, blank=True)
    battery = models.FloatField(null=True, blank=True)
    attributes = EncryptedJSONField(default=dict)

    class Meta:
        ordering = ["device", "fix_time"]
        constraints = [
            models.UniqueConstraint(fields=["device", "fix_time"], name="position_once_per_fix")
        ]

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.fix_time:%Y-%m-%d %H:%M:%S}"

    @property
    def point(self) -> tuple[float, float] | None:
        return stored_point(self.lat, self.lon, self.sealed)

    @property
    def point_accuracy(self) -> float | None:
        return stored_accuracy(self.accuracy, self.sealed)


def stored_point(
    lat: float | None, lon: float | None, sealed: dict[str, Any] | None
) -> tuple[float, float] | None:
    """A stored position's point: its plain columns, or its sealed coordinates (a protected
    person's); None for a position without a fix. Position.point, and rows read without one."""
    if lat is not None and lon is not None:
        return lat, lon
    if sealed:
        return float(sealed["lat"]), float(sealed["lon"])
    return None


def stored_accuracy(accuracy: float | None, sealed: dict[str, Any] | None) -> float | None:
    """A stored position's accuracy: the sealed one where the coordinates are sealed."""
    if sealed:
        value = sealed.get("accuracy")
        return float(value) if value is not None else None
    return accuracy


class EventType(models.TextChoices):
    ALARM = "alarm", "Alarm"
    GEOFENCE_ENTER = "geofence_enter", "Entered zone"
    GEOFENCE_EXIT = "geofence_exit", "Left zone"
    GEOFENCE_CROSSED = "geofence_crossed", "Crossed zone between two fixes"
    LOW_BATTERY = "low_battery", "Low battery"
    OFFLINE = "offline", "Device offline"
    ONLINE = "online", "Device back online"
    REGION = "region", "Phone region transition"
    IGNITION_ON = "ignition_on", "Ignition on"
    IGNITION_OFF = "ignition_off", "Ignition off"
    POWER_CUT = "power_cut", "External power cut"
    TOW = "tow", "Moved with ignition off"


class Event(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(TelemetryDevice, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=EventType.choices)
    key = models.CharField(max_length=80, blank=True, help_text="Alarm value or fence id")
    event_time = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    late = models.BooleanField(default=False)
    severity = models.CharField(max_length=10, default="info")
    geofence = models.ForeignKey(
        Geofence, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    position = models.ForeignKey(
        Position, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # The message's own fix was unusable (fields failed validation): the event is at server time.
    fix_invalid = models.BooleanField(default=False)
    # Set when `position` is the last known one, not the message's: how old it was (seconds).
    position_age_s = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-event_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "type", "key", "event_time"], name="event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.key} {self.device_id} @ {self.event_time}"


class AlertStatus(models.TextChoices):
    RAISED = "raised", "Raised"
    ESCALATED = "escalated", "Escalated"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


OPEN_ALERT_STATUSES = (AlertStatus.RAISED, AlertStatus.ESCALATED)
# An open alert escalates (again, level by level) until someone on call acknowledges it; who may
# acknowledge is decided by the service (the recipients, or a supervisor). No statute applies.
ALERT_TRANSITIONS = TransitionTable.from_moves(
    "alert",
    {
        AlertStatus.RAISED: (
            AlertStatus.ESCALATED,
            AlertStatus.ACKNOWLEDGED,
            AlertStatus.RESOLVED,
        ),
        AlertStatus.ESCALATED: (
            AlertStatus.ESCALATED,
            AlertStatus.ACKNOWLEDGED,
            AlertStatus.RESOLVED,
        ),
        AlertStatus.ACKNOWLEDGED: (AlertStatus.RESOLVED,),
    },
    labels=dict(AlertStatus.choices),
)


class Alert(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="alert")
    device = models.ForeignKey(TelemetryDevice, on_delete=models.PROTECT, related_name="alerts")
    severity = models.CharField(max_length=10)
    title = models.CharField(max_length=200)
    late = models.BooleanField(default=False)
    status = models.CharField(
        max_length=15, choices=AlertStatus.choices, default=AlertStatus.RAISED, db_index=True
    )
    raised_at = models.DateTimeField(default=timezone.now)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalate_at = models.DateTimeField(null=True, blank=True, db_index=True)
    routed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="telemetry_alerts",
    )
    routing = models.CharField(max_length=200, blank=True, help_text="How the recipient was chosen")
    # Everyone the alert has been routed to so far (user ids), for acknowledgement rights.
    recipients = models.JSONField(default=list, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The escalation policy chosen when the alert was raised (None: the rota's layers, then
    # the technical supervisors), and the protected person's case and the deployment behind the
    # device, by id only (operations never reads a case).
    policy = models.ForeignKey(
        "EscalationPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deployment_id = models.UUIDField(null=True, blank=True)
    case_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ALERT_STATUSES


class AlertAcknowledgement(models.Model):
    """Who acknowledged an alert, when, and what they said. Written once, never changed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    alert = models.OneToOneField(Alert, on_delete=models.PROTECT, related_name="acknowledgement")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.alert_id} by {self.user_id}"


# ------------------------------------------------------------------------ escalation policies


class TargetKind(models.TextChoices):
    ON_CALL = "on_call", "Whoever is on call on a rota"
    USER = "user", "A named person"
    CASE_TEAM = "case_team", "A role on the protected person's case team"
    SUPERVISORS = "supervisors", "Every technical supervisor"


class CaseTeamRole(models.TextChoices):
    """The case-team places a step may page (values of access.TeamRole)."""

    LEAD = "lead", "Lead officer"
    MANAGER = "manager", "Case manager"
    OFFICER = "officer", "Officer"
    AUTHORISING = "authorising", "Authorising officer"


class PolicySource(models.TextChoices):
    """What a policy is assigned to; the most specific wins: device, deployment, case."""

    DEVICE = "device", "Tracker or alarm"
    DEPLOYMENT = "deployment", "Deployment"
    CASE = "case", "Protection case"


class EscalationPolicy(models.Model):
    """Who is paged about an alert, in which order (GoAlert's model): step 1 at once, each next
    step when the one before has waited its delay unacknowledged, the whole ladder `repeat` more
    times. Independent of rotas: a step may name a rota's on-call person among its targets."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True)
    repeat = models.PositiveSmallIntegerField(
        default=0, help_text="How many more times the steps are paged after the last one"
    )
    is_default = models.BooleanField(
        default=False, help_text="Used for alerts whose source has no policy of its own"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_escalation_policy",
            )
        ]

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    # How long this step's people have to acknowledge before the next step is paged.
    delay_seconds = models.PositiveIntegerField(default=300)

    class Meta:
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="escalation_step_once")
        ]

    def __str__(self) -> str:
        return f"{self.policy} step {self.position}"


class EscalationTarget(models.Model):
    step = models.ForeignKey(EscalationStep, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=20, choices=TargetKind.choices)
    rota_name = models.CharField(max_length=120, blank=True)  # haven.rota, by name
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team_role = models.CharField(max_length=20, choices=CaseTeamRole.choices, blank=True)

    class Meta:
        ordering = ["step", "id"]

    def __str__(self) -> str:
        if self.kind == TargetKind.ON_CALL:
            return f"On call: {self.rota_name}"
        if self.kind == TargetKind.USER:
            return str(self.user)
        if self.kind == TargetKind.CASE_TEAM:
            return f"Case team: {CaseTeamRole(self.team_role).label}"
        return "Every technical supervisor"


class PolicyAssignment(models.Model):
    """The policy for one alert source (a device, a deployment or a case, by id)."""

    policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.CASCADE, related_name="assignments"
    )
    source = models.CharField(max_length=20, choices=PolicySource.choices)
    source_id = models.UUIDField()
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["source", "assigned_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="one_policy_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.policy} for {self.source} {self.source_id}"

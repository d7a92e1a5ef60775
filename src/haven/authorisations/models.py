"""The covert authorisations register: the legal authority behind a covert deployment.

An authorisation covers [granted_at, expires_at), cut short by its cancellation. Renewals move
the expiry (each kept as a row); reviews are recorded as they happen. Deployments (haven.
equipment) and trackers (haven.telemetry) are linked by id only. Positions a linked tracker
reports outside every authorised period are not stored with the others: they are kept apart here
(QuarantinedPosition, encrypted), visible to technical supervisors only.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from haven.vault.fields import EncryptedJSONField, EncryptedTextField

AUTHORISATION = "covert_authorisation"
QUARANTINE = "quarantined_position"


class AuthorisationKind(models.TextChoices):
    DIRECTED_SURVEILLANCE = (
        "directed_surveillance",
        "Directed surveillance (RIPA 2000 Part II)",
    )
    PROPERTY_INTERFERENCE = (
        "property_interference",
        "Property interference (Police Act 1997 Part III)",
    )
    EQUIPMENT_INTERFERENCE = (
        "equipment_interference",
        "Equipment interference (Investigatory Powers Act 2016)",
    )


class Authorisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(
        max_length=60, unique=True, help_text="The reference on the authorisation or warrant"
    )
    kind = models.CharField(max_length=30, choices=AuthorisationKind.choices)
    # Name, rank and number of the authorising officer (personal data: encrypted).
    authorising_officer = EncryptedTextField()
    # What it authorises, in the authorising officer's words (encrypted).
    summary = EncryptedTextField(blank=True, default="")
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    next_review_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancellation_reason = EncryptedTextField(blank=True, default="")
    # The expiry the last reminder was sent for (a renewal moves the expiry: a new reminder).
    reminded_for = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["expires_at"]

    def __str__(self) -> str:
        return self.reference

    @property
    def ends_at(self) -> dt.datetime:
        """When the authority ends: the expiry, or the cancellation if that came first."""
        if self.cancelled_at is not None and self.cancelled_at < self.expires_at:
            return self.cancelled_at
        return self.expires_at

    def covers(self, moment: dt.datetime) -> bool:
        return self.granted_at <= moment < self.ends_at

    def state(self, now: dt.datetime | None = None) -> str:
        now = now or timezone.now()
        if self.cancelled_at is not None and self.cancelled_at <= now:
            return "cancelled"
        if now < self.granted_at:
            return "not yet in force"
        return "in force" if now < self.expires_at else "expired"


class Review(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authorisation = models.ForeignKey(
        Authorisation, on_delete=models.CASCADE, related_name="reviews"
    )
    reviewed_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = EncryptedTextField(blank=True, default="")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["reviewed_at"]

    def __str__(self) -> str:
        return f"Review of {self.authorisation_id} at {self.reviewed_at:%Y-%m-%d}"


class Renewal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authorisation = models.ForeignKey(
        Authorisation, on_delete=models.CASCADE, related_name="renewals"
    )
    renewed_at = models.DateTimeField()
    previous_expires_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    renewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = EncryptedTextField(blank=True, default="")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["renewed_at"]

    def __str__(self) -> str:
        return f"Renewal of {self.authorisation_id} to {self.expires_at:%Y-%m-%d}"


class Link(models.Model):
    """A deployment (haven.equipment) or a tracker (haven.telemetry) under the authorisation."""

    authorisation = models.ForeignKey(Authorisation, on_delete=models.CASCADE, related_name="links")
    deployment_id = models.UUIDField(null=True, blank=True, db_index=True)
    device_pk = models.UUIDField(null=True, blank=True, db_index=True)
    label = models.CharField(max_length=120, help_text="Deployment reference or tracker id")
    linked_at = models.DateTimeField(default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["linked_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(deployment_id__isnull=False, device_pk__isnull=True)
                    | models.Q(deployment_id__isnull=True, device_pk__isnull=False)
                ),
                name="authorisation_link_one_target",
            )
        ]

    def __str__(self) -> str:
        return self.label


class QuarantinedPosition(models.Model):
    """A report received from a tracker under authorisation, for a time no authorisation covers.
    Everything it said is sealed in `report`; only supervisors may open it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device_pk = models.UUIDField(db_index=True)
    device_label = models.CharField(max_length=80)
    fix_time = models.DateTimeField()
    received_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    report = EncryptedJSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-fix_time"]
        constraints = [
            models.UniqueConstraint(fields=["device_pk", "fix_time"], name="quarantined_once")
        ]

    def __str__(self) -> str:
        return f"{self.device_label} @ {self.fix_time:%Y-%m-%d %H:%M:%S}"

"""Protection cases. Every personal field is encrypted; names and dates of birth also carry
blind indexes for exact-match search and duplicate detection."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from haven.access.models import Classified
from haven.vault.fields import BlindIndexField, EncryptedDateField, EncryptedTextField

OBJECT_TYPE = "case"


class CaseStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    ASSESSED = "assessed", "Assessed"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    ACTIVE = "active", "Active"
    VARIED = "varied", "Varied"
    TRANSFERRED = "transferred", "Transferred"
    CANCELLED = "cancelled", "Cancelled"


class Case(Classified):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    status = models.CharField(
        max_length=20, choices=CaseStatus.choices, default=CaseStatus.REFERRED
    )
    subject_name = EncryptedTextField()
    subject_dob = EncryptedDateField(null=True, blank=True)
    address = EncryptedTextField(blank=True, default="")
    name_index = BlindIndexField(kind="name", sources=("subject_name",))
    dob_index = BlindIndexField(kind="dob", sources=("subject_dob",))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference


class IdentityRecord(models.Model):
    """The link between old and new identity: the most dangerous fact in the building."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="identity")
    legacy_name = EncryptedTextField()
    legacy_dob = EncryptedDateField(null=True, blank=True)
    new_name = EncryptedTextField()
    new_dob = EncryptedDateField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"identity record for {self.case_id}"

"""Need-to-know: who may open which protected object, besides their roles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from haven.accounts.roles import Clearance
from haven.vault.fields import EncryptedTextField


class Classified(models.Model):
    """Government Security Classification tier plus the OFFICIAL-SENSITIVE marking."""

    classification = models.PositiveSmallIntegerField(
        choices=Clearance.choices, default=Clearance.OFFICIAL
    )
    sensitive = models.BooleanField(
        default=True, help_text="OFFICIAL-SENSITIVE marking (within OFFICIAL)"
    )
    descriptors = models.CharField(max_length=120, blank=True)

    class Meta:
        abstract = True

    @property
    def marking(self) -> str:
        label = Clearance(self.classification).label
        if self.classification == Clearance.OFFICIAL and self.sensitive:
            label = "OFFICIAL-SENSITIVE"
        return f"{label} {self.descriptors}".strip()


class TeamRole(models.TextChoices):
    """Places on a team. Cases use lead, officer, manager and authorising; deployments use
    supervisor, lead and technician (equipment.models.TeamPlace names them for deployments)."""

    LEAD = "lead", "Lead officer"
    OFFICER = "officer", "Officer"
    MANAGER = "manager", "Case manager"
    AUTHORISING = "authorising", "Authorising officer"
    SUPERVISOR = "supervisor", "Supervising officer"
    TECHNICIAN = "technician", "Technician"


class ProtectedObjectRow(models.Model):
    """A row about one protected object (a case, a deployment), named by its type and id as
    the access checks name it: a team place or a grant."""

    object_type = models.CharField(max_length=40)
    object_id = models.UUIDField()

    class Meta:
        abstract = True

    @property
    def protected_object(self) -> str:
        return f"{self.object_type}:{self.object_id}"


class TeamMembership(ProtectedObjectRow):
    """Who is on the team of a protected object (a case, a deployment): the one team model."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    team_role = models.CharField(max_length=20, choices=TeamRole.choices)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id", "user", "team_role"], name="unique_team_role"
            )
        ]
        indexes = [models.Index(fields=["user", "object_type"], name="access_team_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.team_role} of {self.protected_object}"


class GrantKind(models.TextChoices):
    GRANT = "grant", "Time-limited grant"
    BREAK_GLASS = "break_glass", "Break-glass"


class AccessGrant(ProtectedObjectRow):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=GrantKind.choices)
    # Why a grant or break-glass was made: personal text, so sealed by the vault. NULL only
    # between the insert and the save that seals it (the id is the database's: create_sealed).
    reason = EncryptedTextField(null=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["user", "object_type", "expires_at"], name="access_grant_user_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user} on {self.protected_object}"

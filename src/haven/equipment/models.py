"""Equipment register, chain of custody, kit lists and deployments (operational plans).

Need-to-know: a deployment is opened by its team only (supervisor and technicians on it). A
deployment may protect a case: it holds the case's id and nothing else from the case. What the
team needs (install address, site risk notes) is entered on the deployment and encrypted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from haven.access import policy
from haven.access.models import Classified, TeamRole
from haven.revisions import Revision
from haven.vault.fields import EncryptedJSONField, EncryptedTextField
from haven.workflow import TransitionTable

if TYPE_CHECKING:
    from haven.accounts.models import User

DEPLOYMENT = "deployment"
ASSET = "asset"


class AssetType(models.Model):
    """Configurable kinds of kit (covert camera, panic button, vehicle tracker, ...)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True)
    trackable = models.BooleanField(default=False, help_text="Reports positions or alarms")
    # A retired type (active False) is no longer offered for new kit; assets of it keep it.
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)  # read by a correction (ensure_version)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssetState(models.TextChoices):
    PROCURED = "procured", "Procured"
    IN_STOCK = "in_stock", "In stock"
    CONFIGURED = "configured", "Configured"
    DEPLOYED = "deployed", "Deployed"
    RECOVERED = "recovered", "Recovered"
    MAINTENANCE = "maintenance", "Maintenance"
    RETIRED = "retired", "Retired"
    DESTROYED = "destroyed", "Destroyed"


def _asset_refusal(table: TransitionTable, source: str, target: str) -> str:
    wanted = table.label(target).lower() if target in table.labels else target
    return f"An asset that is {table.label(source).lower()} cannot be set to {wanted}"


# Transitions a supervisor may make by hand. DEPLOYED and RECOVERED happen only through the
# chain of custody (deploying and recovering an asset on a deployment).
MANUAL_TRANSITIONS = TransitionTable.from_moves(
    "asset",
    {
        AssetState.PROCURED: (AssetState.IN_STOCK, AssetState.RETIRED),
        AssetState.IN_STOCK: (AssetState.CONFIGURED, AssetState.MAINTENANCE, AssetState.RETIRED),
        AssetState.CONFIGURED: (AssetState.IN_STOCK, AssetState.MAINTENANCE),
        AssetState.DEPLOYED: (),
        AssetState.RECOVERED: (
            AssetState.IN_STOCK,
            AssetState.MAINTENANCE,
            AssetState.RETIRED,
            AssetState.DESTROYED,
        ),
        AssetState.MAINTENANCE: (
            AssetState.IN_STOCK,
            AssetState.CONFIGURED,
            AssetState.RETIRED,
            AssetState.DESTROYED,
        ),
        AssetState.RETIRED: (AssetState.DESTROYED,),
        AssetState.DESTROYED: (),
    },
    labels=dict(AssetState.choices),
    field="state",
    refusal=_asset_refusal,
)
DEPLOYABLE_STATES = frozenset({AssetState.IN_STOCK, AssetState.CONFIGURED})
OUT_OF_SERVICE = frozenset({AssetState.RETIRED, AssetState.DESTROYED})


class Asset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    asset_type = models.ForeignKey(AssetType, on_delete=models.PROTECT, related_name="assets")
    make = models.CharField(max_length=80)
    model_name = models.CharField("model", max_length=80)
    serial = models.CharField(max_length=80, unique=True)
    device_id = models.CharField(
        max_length=80,
        null=True,
        blank=True,
        unique=True,
        help_text="Identifier the device reports with (tracker unique id, OwnTracks device)",
    )
    firmware = models.CharField(max_length=80, blank=True)
    sim_details = EncryptedTextField(blank=True, default="")
    ip_details = EncryptedTextField(blank=True, default="")
    state = models.CharField(max_length=20, choices=AssetState.choices, default=AssetState.PROCURED)
    # Custody: a person holds it, or it sits at a place (the store, or a deployment site).
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assets_held",
    )
    place = models.CharField(max_length=120, default="Store")
    notes = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)  # read by a correction (ensure_version)

    class Meta:
        ordering = ["serial"]

    def __str__(self) -> str:
        return f"{self.asset_type} {self.serial}"

    @property
    def custodian(self) -> str:
        return str(self.holder) if self.holder_id else self.place


class AssetRevision(Revision):
    """The values a correction of an asset's details replaced: its history (haven.revisions),
    encrypted and bound to the asset, as SIM and IP details are secret."""

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="revisions")
    vault_owner = "asset"

    class Meta(Revision.Meta):
        pass

    def __str__(self) -> str:
        return f"asset {self.asset_id} v{self.version}"


class CustodyKind(models.TextChoices):
    RECEIVED = "received", "Received into store"
    ISSUED = "issued", "Issued from store (signed for)"
    HANDOVER = "handover", "Handed over"
    DEPLOYED = "deployed", "Deployed at site"
    RECOVERED = "recovered", "Recovered from site"
    RETURNED = "returned", "Returned to store"


class CustodyEvent(models.Model):
    """One link in the chain of custody. Append-only: services never update or delete, and
    database triggers (equipment/triggers.py) refuse UPDATE and DELETE."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="custody")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=CustodyKind.choices)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    from_place = models.CharField(max_length=120, blank=True)
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_place = models.CharField(max_length=120, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    location = models.CharField("where", max_length=200)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signature = models.CharField(max_length=150)
    deployment = models.ForeignKey(
        "Deployment", null=True, blank=True, on_delete=models.PROTECT, related_name="custody"
    )
    note = models.CharField(max_length=500, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["asset", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "sequence"], name="custody_unique_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} #{self.sequence} {self.kind}"

    @property
    def from_label(self) -> str:
        return str(self.from_user) if self.from_user_id else self.from_place

    @property
    def to_label(self) -> str:
        return str(self.to_user) if self.to_user_id else self.to_place


class KitList(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=500, blank=True)
    assets = models.ManyToManyField(Asset, related_name="kits", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeploymentStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    LIVE = "live", "Live"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (DeploymentStatus.PLANNED, DeploymentStatus.LIVE)


class Deployment(Classified):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=120)
    objective = EncryptedTextField()
    # Link to a protection case by id only: never the case's data.
    case_id = models.UUIDField(null=True, blank=True, db_index=True)
    operation_name = models.CharField(max_length=120, blank=True)
    install_address = EncryptedTextField(blank=True, default="")
    site_risk_notes = EncryptedTextField(blank=True, default="")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    overnight_stays = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=DeploymentStatus.choices, default=DeploymentStatus.PLANNED
    )
    install_checklist = EncryptedJSONField(default=list)
    recovery_checklist = EncryptedJSONField(default=list)
    outcome = EncryptedTextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="deployment_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @cached_property
    def team(self) -> list[TeamMember]:
        """Supervisor, lead and technicians, by place then user name."""
        return [
            TeamMember(member.user, member.team_role)
            for member in policy.team_of(DEPLOYMENT, self.pk)
        ]


class TeamPlace(models.TextChoices):
    """A deployment's team places: values of access.TeamRole, named as deployments name them.

    The team itself is access.TeamMembership with object_type DEPLOYMENT, the same team model
    as cases (one answer to "who is on the team")."""

    SUPERVISOR = TeamRole.SUPERVISOR.value, "Supervising officer"
    LEAD = TeamRole.LEAD.value, "Lead technician"
    TECHNICIAN = TeamRole.TECHNICIAN.value, "Technician"


@dataclass(frozen=True)
class TeamMember:
    """One place on a deployment's team, read from access.TeamMembership."""

    user: User
    place: str

    def get_place_display(self) -> str:
        return str(TeamPlace(self.place).label)


class CurrentKit(models.Manager["DeploymentAsset"]):
    """Kit still on its deployment: what `deployment.kit` and every lookup of it answer."""

    def get_queryset(self) -> models.QuerySet[DeploymentAsset]:
        return super().get_queryset().filter(removed_at__isnull=True)


class DeploymentAsset(models.Model):
    """An asset on a deployment. Taking it off ends the row (removed_at, by whom, why): the row
    is kept, so the deployment's kit history stays readable."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="kit")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="assignments")
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removal_reason = models.CharField(max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)

    history = models.Manager()  # every row, removed ones too (before objects: DJ012)
    objects = CurrentKit()

    class Meta:
        ordering = ["asset__serial"]
        base_manager_name = "history"
        default_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "asset"],
                condition=models.Q(removed_at__isnull=True),
                name="deployment_asset_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} on {self.deployment_id}"

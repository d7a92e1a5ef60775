"""On-call rotas (layers, overrides, swaps), allowance tiers, iCal feed tokens and welfare.

Rotations are stored as local dates and times plus an IANA time zone, so that a 09:00 hand-over
stays at 09:00 on both sides of a daylight-saving change (the shift across the change is 23 or
25 hours long). Overrides and swaps cover instants and are stored as aware datetimes.
"""

from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from haven.accounts.models import SecretToken
from haven.revisions import Revision
from haven.vault.fields import EncryptedDateField, EncryptedTextField

ROTA = "rota"


def validate_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"{value!r} is not an IANA time zone") from error


class AllowanceBasis(models.TextChoices):
    DAILY = "daily", "Fixed amount per day on call"
    PERCENTAGE = "percentage", "Percentage of basic pay"


class AllowanceTier(models.Model):
    """A configurable on-call allowance with its source (uk-domain-rules.md §6)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    basis = models.CharField(max_length=20, choices=AllowanceBasis.choices)
    daily_amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    percentage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    citation = models.CharField(max_length=300)
    confirmed = models.BooleanField(
        default=True, help_text="False until checked against the primary source"
    )
    version = models.PositiveSmallIntegerField(default=1)
    valid_from = models.DateField()
    notes = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        if self.basis == AllowanceBasis.DAILY:
            return f"{self.name} (£{self.daily_amount}/day)"
        return f"{self.name} ({self.percentage}%)"


class RotaGroup(models.TextChoices):
    """The staff group a rota belongs to (staff.py): its people, supervisors and pages."""

    OPERATIONS = "operations", "Operations"
    PROTECTION = "protection", "Protection"


class Rota(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.CharField(
        max_length=20, choices=RotaGroup.choices, default=RotaGroup.OPERATIONS, db_index=True
    )
    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=500, blank=True)
    time_zone = models.CharField(max_length=60, default="Europe/London", validators=[validate_zone])
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    allowance_tier = models.ForeignKey(
        AllowanceTier, null=True, blank=True, on_delete=models.PROTECT, related_name="rotas"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Rotation(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class RotaLayer(models.Model):
    """A rotation of people. Where layers overlap the higher priority wins."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=80)
    priority = models.PositiveSmallIntegerField(default=1)
    rotation = models.CharField(max_length=10, choices=Rotation.choices, default=Rotation.WEEKLY)
    handover_time = models.TimeField(help_text="Local time in the rota's time zone")
    starts_on = models.DateField(help_text="Local date of the first hand-over")
    ends_on = models.DateField(null=True, blank=True)
    # Shifts starting on these weekdays only (0 = Monday); empty means every day.
    days_of_week = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-priority", "name"]
        constraints = [
            models.UniqueConstraint(fields=["rota", "name"], name="rota_layer_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.rota} / {self.name}"


class LayerMember(models.Model):
    layer = models.ForeignKey(RotaLayer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "position"], name="layer_member_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.user}"


class Override(models.Model):
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Often about the person (leave, sickness): sealed by the vault (see vault.create_sealed).
    reason = EncryptedTextField(null=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="override_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M}"


class SwapStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class ShiftSwap(models.Model):
    """A person asks a colleague to cover their shift; it takes effect only when accepted."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="swaps")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    counterpart = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=12, choices=SwapStatus.choices, default=SwapStatus.REQUESTED
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    override = models.OneToOneField(
        Override, null=True, blank=True, on_delete=models.SET_NULL, related_name="swap"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.requester} -> {self.counterpart} ({self.status})"


class FeedToken(SecretToken):
    """The secret in a person's iCal feed URL."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"feed {self.hint}… for {self.user}"


class WorkKind(models.TextChoices):
    SHIFT = "shift", "Shift"
    CALLOUT = "callout", "Call-out while on call"
    DEPLOYMENT = "deployment", "Deployment working day"
    TRAINING = "training", "Training"


class WorkPeriod(models.Model):
    """Time actually worked (timesheet), the basis of the working-time flags."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    break_minutes = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=WorkKind.choices, default=WorkKind.SHIFT)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["user", "starts_at"], name="rota_work_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="work_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class WelfareProfile(models.Model):
    """Per-person welfare facts. Assessment dates are health data: encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    last_psych_assessment = EncryptedDateField(null=True, blank=True)
    notes = EncryptedTextField(blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"welfare profile of {self.user}"


class WeeklyRestOption(models.TextChoices):
    WEEKLY = "weekly", "24 hours in each 7 days (reg 11(1))"
    FORTNIGHTLY = "fortnightly", "Two 24-hour rests or one 48-hour rest in each 14 days (reg 11(2))"


class WorkingTimeTerms(models.Model):
    """The facts the working-time limits depend on for one person (WTR 1998): when they
    started work (reg 4(4)), a written opt-out of the 48-hour average and its end (reg 5), and
    the weekly-rest option the employer determined (reg 11(2))."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    employment_started_on = models.DateField(null=True, blank=True)
    opt_out_signed_on = models.DateField(null=True, blank=True)
    opt_out_ended_on = models.DateField(null=True, blank=True)
    weekly_rest_option = models.CharField(
        max_length=12, choices=WeeklyRestOption.choices, default=WeeklyRestOption.WEEKLY
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"working-time terms of {self.user}"


class LeavePeriod(models.Model):
    """Days excluded from the 48-hour reference period (reg 4(7): annual, sick, maternity,
    paternity, adoption or parental leave). The kind is not recorded: sickness is health data
    and the calculation does not need it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="leave_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"leave {self.starts_on} to {self.ends_on}"


class RestException(models.TextChoices):
    SPECIAL_CASE = (
        "reg21",
        "Special case: activity needing continuity or a permanent presence (reg 21)",
    )
    SHIFT_WORK = "reg22", "Shift work: change of shift (reg 22)"
    POLICE_SERVICES = "reg18", "Police services that inevitably conflict (reg 18(2)(a))"


class CompensatoryRest(models.Model):
    """Rest given in place of a displaced rest period or break (reg 24), against the day of
    the breach it compensates."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rule_code = models.CharField(max_length=20)
    breach_on = models.DateField()
    hours = models.DecimalField(max_digits=5, decimal_places=1)
    exception = models.CharField(max_length=8, choices=RestException.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["breach_on"]

    def __str__(self) -> str:
        return f"compensatory rest for {self.rule_code} on {self.breach_on}"


class WelfareNote(models.Model):
    """A supervisor's dated welfare note about one person (a check-in, a referral to
    occupational health, support agreed). The text is health data: encrypted. Never deleted:
    a note entered in error is corrected or withdrawn by its author or the group's supervisor,
    with the version read and a reason; what it replaced is kept in WelfareNoteRevision."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    # Withdrawn as entered in error: kept and shown as withdrawn; who and why are its history.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="rota_welfare_note_user_idx")]

    def __str__(self) -> str:
        return f"welfare note about {self.user} {self.created_at:%Y-%m-%d}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class WelfareNoteRevision(Revision):
    """The values a correction or withdrawal of a welfare note replaced (haven.revisions),
    encrypted and bound to the note like its text."""

    note = models.ForeignKey(WelfareNote, on_delete=models.PROTECT, related_name="revisions")
    vault_owner = "note"

    class Meta(Revision.Meta):
        pass

    def __str__(self) -> str:
        return f"welfare note {self.note_id} v{self.version}"

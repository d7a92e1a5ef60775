"""Risk assessments (versioned), protective measures and the decision log of a protection case.

Narrative (threat details, THRIVE text, Osman elements, rationale) is encrypted with vault
fields. Assessment versions are never overwritten: a change after approval is a new version;
decision-log entries, measure status changes and workflow events are append-only (database
triggers in risk/triggers.py refuse UPDATE and DELETE).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from haven.access.models import Classified
from haven.accounts.roles import Role
from haven.revisions import Revision
from haven.vault.fields import EncryptedJSONField, EncryptedTextField
from haven.workflow import Transition, TransitionTable

from .config import NDM_STAGES


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    RETURNED = "returned", "Returned with comments"
    APPROVED = "approved", "Approved"
    ENDORSED = "endorsed", "Endorsed"
    SUPERSEDED = "superseded", "Superseded"


EDITABLE = (Status.DRAFT, Status.RETURNED)
OPEN = (Status.DRAFT, Status.SUBMITTED, Status.RETURNED)

# Approval by the case's manager, then endorsement by its authorising officer (DESIGN.md); no
# statute fixes these steps. Who acts is also checked against the case team by the services.
# Superseding and restoring happen only as part of approving or returning another version.
_MANAGER = frozenset({Role.PROTECTION_MANAGER})
_AUTHORISER = frozenset({Role.AUTHORISING_OFFICER})
ASSESSMENT_TRANSITIONS = TransitionTable(
    "risk assessment",
    (
        Transition(Status.DRAFT, Status.SUBMITTED),
        Transition(Status.RETURNED, Status.SUBMITTED),
        Transition(Status.SUBMITTED, Status.APPROVED, _MANAGER),
        Transition(Status.SUBMITTED, Status.RETURNED, _MANAGER),
        Transition(Status.APPROVED, Status.ENDORSED, _AUTHORISER),
        Transition(Status.APPROVED, Status.RETURNED, _AUTHORISER),
        Transition(Status.APPROVED, Status.SUPERSEDED),
        Transition(Status.ENDORSED, Status.SUPERSEDED),
        Transition(Status.SUPERSEDED, Status.APPROVED),
        Transition(Status.SUPERSEDED, Status.ENDORSED),
    ),
    labels=dict(Status.choices),
)


class RiskAssessment(Classified):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    number = models.PositiveIntegerField()
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # the version this one was started from
    replaced = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # the version that was current when this one was approved
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    is_current = models.BooleanField(default=False)
    # THRIVE
    thrive_threat = EncryptedTextField(blank=True, default="")
    thrive_harm = EncryptedTextField(blank=True, default="")
    thrive_risk = EncryptedTextField(blank=True, default="")
    thrive_investigation = EncryptedTextField(blank=True, default="")
    thrive_vulnerability = EncryptedTextField(blank=True, default="")
    thrive_engagement = EncryptedTextField(blank=True, default="")
    # Overall score before and after controls, with the band scheme it was scored with.
    likelihood = models.PositiveSmallIntegerField()
    impact = models.PositiveSmallIntegerField()
    score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=20)
    residual_likelihood = models.PositiveSmallIntegerField()
    residual_impact = models.PositiveSmallIntegerField()
    residual_score = models.PositiveSmallIntegerField()
    residual_band = models.CharField(max_length=20)
    scheme_code = models.CharField(max_length=40)
    scheme_version = models.PositiveSmallIntegerField()
    # Threat to life: each Osman element recorded separately (Osman v UK, para 116).
    threat_to_life = models.BooleanField(default=False)
    osman_real_immediate = EncryptedTextField(blank=True, default="")
    osman_identified_individual = EncryptedTextField(blank=True, default="")
    osman_third_party = EncryptedTextField(blank=True, default="")
    social_services_informed = models.BooleanField(default=False)
    # Workflow
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    endorsed_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    next_review_on = models.DateField(null=True, blank=True)
    review_task_id = models.UUIDField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="risk_assessment_number"),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(is_current=True),
                name="risk_one_current_assessment",
            ),
        ]
        indexes = [
            # The portfolio's list order (next review, then case): a page is read off the index
            # in order and stops after one page, instead of sorting the whole caseload.
            models.Index(
                fields=["is_current", "next_review_on", "case"], name="risk_current_order_idx"
            ),
            # The same order over current versions only: SQLite compares a boolean column bare
            # ("WHERE is_current"), which never matches the index above, but matches this one.
            models.Index(
                fields=["next_review_on", "case"],
                condition=models.Q(is_current=True),
                name="risk_current_review_idx",
            ),
            # Covers the portfolio's grouped counts (no table reads across a large caseload).
            models.Index(
                fields=[
                    "is_current",
                    "case",
                    "band",
                    "residual_likelihood",
                    "residual_impact",
                    "threat_to_life",
                    "next_review_on",
                    "classification",
                ],
                name="risk_portfolio_idx",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"risk assessment v{self.number}"

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def overdue(self) -> bool:
        return (
            self.is_current
            and self.next_review_on is not None
            and (self.next_review_on < timezone.localdate())
        )

    # Withdrawn threats and vulnerabilities that no longer apply stay on the version that
    # recorded them, shown apart; these read the prefetched rows (selectors.with_content).
    @property
    def current_threats(self) -> list[Threat]:
        return [t for t in self.threats.all() if t.ended_at is None]

    @property
    def ended_threats(self) -> list[Threat]:
        return [t for t in self.threats.all() if t.ended_at is not None]

    @property
    def current_vulnerabilities(self) -> list[Vulnerability]:
        return [v for v in self.vulnerabilities.all() if v.ended_at is None]

    @property
    def ended_vulnerabilities(self) -> list[Vulnerability]:
        return [v for v in self.vulnerabilities.all() if v.ended_at is not None]


class Threat(models.Model):
    """One risk on an assessment: who (source), able to (capability), wanting to (intent)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(RiskAssessment, on_delete=models.PROTECT, related_name="threats")
    # Encrypted fields are bound to the owning assessment: re-pointing the row breaks them.
    vault_owner = "assessment"
    ref = models.CharField(max_length=10)  # R1, R2 ... kept across versions of the case
    source = EncryptedTextField()
    capability = EncryptedTextField(blank=True, default="")
    intent = EncryptedTextField(blank=True, default="")
    linked_people = EncryptedJSONField(default=list, blank=True)  # free text or person ids
    likelihood = models.PositiveSmallIntegerField()
    impact = models.PositiveSmallIntegerField()
    residual_likelihood = models.PositiveSmallIntegerField()
    residual_impact = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)  # optimistic locking (corrections)
    ended_at = models.DateTimeField(null=True, blank=True)  # withdrawn: kept, shown apart

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.ref

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def residual_score(self) -> int:
        return self.residual_likelihood * self.residual_impact


class Vulnerability(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(
        RiskAssessment, on_delete=models.PROTECT, related_name="vulnerabilities"
    )
    # Encrypted fields are bound to the owning assessment: re-pointing the row breaks them.
    vault_owner = "assessment"
    description = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)  # optimistic locking (corrections)
    ended_at = models.DateTimeField(null=True, blank=True)  # no longer applies: kept, apart

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"vulnerability {self.pk}"


class RiskRevision(Revision):
    """The values a correction or ending of a threat or vulnerability replaced: its history
    (haven.revisions), bound to the case like the case's own records."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    kind = models.CharField(max_length=20)  # "threat", "vulnerability"
    record_id = models.UUIDField(db_index=True)

    class Meta(Revision.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id} v{self.version}"


class NoticeKind(models.TextChoices):
    WARNING = "warning", "Threat-to-life Warning Notice (Osman)"
    DISRUPTION = "disruption", "Threat-to-life Disruption Notice (reverse Osman)"


class NoticeDecision(models.TextChoices):
    SERVED = "served", "Served"
    WITHHELD = "withheld", "Not served"


class Notice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(RiskAssessment, on_delete=models.PROTECT, related_name="notices")
    # Encrypted fields are bound to the owning assessment: re-pointing the row breaks them.
    vault_owner = "assessment"
    kind = models.CharField(max_length=12, choices=NoticeKind.choices)
    decision = models.CharField(max_length=10, choices=NoticeDecision.choices)
    recipient = EncryptedTextField()
    served_by = EncryptedTextField(blank=True, default="")
    served_at = models.DateTimeField(null=True, blank=True)
    withheld_reason = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.kind} notice"


class AssessmentEvent(models.Model):
    """The workflow history of a version (submitted, approved, returned...): append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(RiskAssessment, on_delete=models.PROTECT, related_name="events")
    # Append-only (risk.triggers): the row cannot be re-pointed, so no owner binding.
    action = models.CharField(max_length=20)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    comments = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return self.action


class MeasureType(models.Model):
    """The configurable catalogue of protective measures."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)  # retired: not offered for new measures
    version = models.PositiveIntegerField(default=1)  # optimistic locking (corrections)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MeasureStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    AGREED = "agreed", "Agreed by management team"
    IN_PLACE = "in_place", "In place"
    SUSPENDED = "suspended", "Suspended"
    ENDED = "ended", "Ended"
    DECLINED = "declined", "Declined"


FINAL_MEASURE_STATUSES = (MeasureStatus.ENDED, MeasureStatus.DECLINED)
# A measure moves freely until it is ended or declined; only a manager records it as agreed by
# the management team (local policy, no statute).
MEASURE_TRANSITIONS = TransitionTable(
    "measure",
    (
        Transition(
            source,
            target,
            frozenset({Role.PROTECTION_MANAGER}) if target == MeasureStatus.AGREED else frozenset(),
        )
        for source in MeasureStatus.values
        if source not in FINAL_MEASURE_STATUSES
        for target in MeasureStatus.values
        if target != source
    ),
    labels=dict(MeasureStatus.choices),
    field="status",
)


class ProtectiveMeasure(models.Model):
    """One measure in a case's protective package, linked to the risks (threat refs) it controls."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    measure_type = models.ForeignKey(MeasureType, on_delete=models.PROTECT, related_name="+")
    details = EncryptedTextField(blank=True, default="")
    controls = models.JSONField(default=list, blank=True)  # threat refs, e.g. ["R1", "R2"]
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12, choices=MeasureStatus.choices, default=MeasureStatus.PROPOSED
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    cost_pence = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"measure {self.pk}"

    @property
    def cost(self) -> str:
        return f"£{self.cost_pence // 100:,}.{self.cost_pence % 100:02d}"


class MeasureStatusChange(models.Model):
    """A measure's change of status with its reason: append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    measure = models.ForeignKey(
        ProtectiveMeasure, on_delete=models.PROTECT, related_name="status_changes"
    )
    # Append-only (risk.triggers): the row cannot be re-pointed, so no owner binding.
    from_status = models.CharField(max_length=12, choices=MeasureStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=MeasureStatus.choices)
    reason = EncryptedTextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at"]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"


class DecisionLogEntry(models.Model):
    """A policy-file entry under the National Decision Model: append-only, numbered per case,
    timed at decision and at entry; a correction is a new entry referencing the one it corrects."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    # Append-only (risk.triggers): the row cannot be re-pointed, so no owner binding.
    sequence = models.PositiveIntegerField()
    decided_at = models.DateTimeField()
    entered_at = models.DateTimeField(default=timezone.now)
    decision_maker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ndm_stage = models.CharField(max_length=12, choices=NDM_STAGES)
    decision = EncryptedTextField()
    rationale = EncryptedTextField()
    options_rejected = EncryptedTextField(blank=True, default="")
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="risk_decision_sequence")
        ]

    def __str__(self) -> str:
        return f"decision {self.sequence}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValidationError(
                f"Decision-log entry {self.sequence} cannot be changed: record a correction"
            )
        super().save(*args, **kwargs)


# The review date a PortfolioCount row stands for when the assessment has none (NULL cannot
# take part in the row's unique key on SQLite).
NO_REVIEW_DATE = "9999-12-31"


class PortfolioCount(models.Model):
    """How many cases of one team member's caseload have a current assessment with these
    counted values: the risk portfolio's counts, read from a few rows per user instead of
    aggregating every case the user may see.

    Kept by database triggers (risk/portfolio_counts.py), never by Python code, so that no
    write path can leave it stale: on risk_riskassessment (a version becoming or ceasing to be
    current) and on access_teammembership (a member joining or leaving a case's team, a case
    counted once however many places its member holds). Only the team route is counted: live
    grants expire with the clock, so the portfolio adds the cases they open at read time; the
    clearance filter applies to `classification` at read time too."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    classification = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=20)
    residual_likelihood = models.PositiveSmallIntegerField()
    residual_impact = models.PositiveSmallIntegerField()
    threat_to_life = models.BooleanField()
    review_on = models.DateField()  # next_review_on, or NO_REVIEW_DATE
    n = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "user",
                    "classification",
                    "band",
                    "residual_likelihood",
                    "residual_impact",
                    "threat_to_life",
                    "review_on",
                ],
                name="risk_portfolio_count_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.n} {self.band} for user {self.user_id}"

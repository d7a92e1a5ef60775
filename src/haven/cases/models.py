"""Protection cases. Every personal field is encrypted; names and dates of birth also carry
blind indexes for exact-match search and duplicate detection."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from haven.access.models import Classified
from haven.revisions import Revision
from haven.vault.fields import (
    BlindIndexField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
)
from haven.vault.models import SealedDocument

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


class Urgency(models.TextChoices):
    IMMEDIATE = "immediate", "Immediate (threat to life)"
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"


class LegalBasis(models.TextChoices):
    S82 = "s82", "SOCPA 2005 s.82(1): safety at risk from criminal conduct (E, W, S)"
    SCH5 = "sch5", "SOCPA 2005 Sch 5 category (Northern Ireland)"


DEFAULT_PROVIDER = "UKPPS (National Crime Agency)"


_STATUS_LABELS: dict[str, str] = dict(CaseStatus.choices)
_URGENCY_LABELS: dict[str, str] = dict(Urgency.choices)


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
    # Referral (intake) details.
    referring_organisation = models.CharField(max_length=200, blank=True, default="")
    referring_officer = models.CharField(max_length=200, blank=True, default="")
    threat_summary = EncryptedTextField(null=True, blank=True)
    urgency = models.CharField(max_length=12, choices=Urgency.choices, default=Urgency.ROUTINE)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Arrangement.
    provider = models.CharField(max_length=200, default=DEFAULT_PROVIDER)
    legal_basis = models.CharField(max_length=8, choices=LegalBasis.choices, default="s82")
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "received_at"], name="cases_status_received_idx")]

    def __str__(self) -> str:
        return self.reference

    # Every row of the case list shows both: a dictionary look-up rather than Django's
    # get_FOO_display, which builds the field's choices into a new dictionary on each call.
    def get_status_display(self) -> str:  # type: ignore[no-redef]
        return _STATUS_LABELS.get(self.status, self.status)

    def get_urgency_display(self) -> str:  # type: ignore[no-redef]
        return _URGENCY_LABELS.get(self.urgency, self.urgency)


class IdentityRecord(models.Model):
    """The link between old and new identity: the most dangerous fact in the building."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="identity")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    legacy_name = EncryptedTextField()
    legacy_dob = EncryptedDateField(null=True, blank=True)
    new_name = EncryptedTextField()
    new_dob = EncryptedDateField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"identity record for {self.case_id}"


class Decision(models.Model):
    """One arrangement transition: the s.82(3) / s.84(4) record of who decided what, and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    from_status = models.CharField(max_length=20, choices=CaseStatus.choices)
    to_status = models.CharField(max_length=20, choices=CaseStatus.choices)
    decision_maker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_on = models.DateField()
    reason = EncryptedTextField()
    factor_risk = EncryptedTextField(null=True, blank=True)
    factor_cost = EncryptedTextField(null=True, blank=True)
    factor_adjustment = EncryptedTextField(null=True, blank=True)
    factor_proceedings = EncryptedTextField(null=True, blank=True)
    citation = models.CharField(max_length=120, blank=True)
    rules_version = models.PositiveSmallIntegerField(default=1)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"


class JointProvider(models.Model):
    """s.83: arrangements made jointly with another provider."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="joint_providers")
    provider = models.CharField(max_length=200)
    exercises_arrangements = models.BooleanField(default=False)
    agreed_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.provider


class Transfer(models.Model):
    """s.84: transfer to another provider as from a specified date, recorded by both."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="transfer")
    from_provider = models.CharField(max_length=200)
    receiving_provider = models.CharField(max_length=200)
    effective_date = models.DateField()
    cost_terms = EncryptedTextField(null=True, blank=True)
    sending_recorded_on = models.DateField()
    receiving_recorded_on = models.DateField()
    receiving_recorded_by = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"transfer to {self.receiving_provider}"


class PersonRole(models.TextChoices):
    PRINCIPAL = "principal", "Principal"
    ASSOCIATED = "associated", "Associated person"


class Relationship(models.TextChoices):
    SELF = "self", "Principal"
    PARTNER = "partner", "Partner or spouse"
    CHILD = "child", "Child"
    PARENT = "parent", "Parent"
    SIBLING = "sibling", "Brother or sister"
    RELATIVE = "relative", "Other relative"
    ASSOCIATE = "associate", "Close associate"


class Person(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="people")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    role = models.CharField(max_length=12, choices=PersonRole.choices)
    relationship = models.CharField(max_length=12, choices=Relationship.choices)
    full_name = EncryptedTextField()
    dob = EncryptedDateField(null=True, blank=True)
    phone = EncryptedTextField(null=True, blank=True)
    notes = EncryptedTextField(null=True, blank=True)
    name_index = BlindIndexField(kind="name", sources=("full_name",))
    name_dob_index = BlindIndexField(kind="name_dob", sources=("full_name", "dob"))
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"person {self.pk}"


class LocationKind(models.TextChoices):
    RESIDENCE = "residence", "Residence"
    SAFE_HOUSE = "safe_house", "Safe house"
    WORK = "work", "Work"
    SCHOOL = "school", "School"


class Location(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="locations")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT)
    kind = models.CharField(max_length=12, choices=LocationKind.choices)
    address = EncryptedTextField()
    coordinates = EncryptedJSONField(null=True, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.kind} location"


class ContactMethod(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "Phone"
    VIDEO = "video", "Video call"
    MESSAGE = "message", "Secure message"
    LETTER = "letter", "Letter"


class Concern(models.TextChoices):
    STRAIN = "strain", "Strain"
    TENSION = "tension", "Family tension"
    SECURITY = "security", "Security breach or exposure"
    WELLBEING = "wellbeing", "Health or wellbeing"
    FINANCE = "finance", "Money"
    COMPLIANCE = "compliance", "Not following the arrangements"


class MayBeTold(models.TextChoices):
    """What a partner organisation may be told about a protected person (the controlled list)."""

    NOTHING = "nothing", "Nothing: do not confirm that a person is known to us"
    EXISTENCE = "existence", "That the person is known to the protection service"
    CONTACT_ROUTE = "contact_route", "How to reach the protection team, nothing more"
    SAFETY = "safety", "Safety information they need for their own role"
    FULL = "full", "Arrangement details agreed with the case manager"


class Partner(models.Model):
    """A partner or stakeholder in the protection directory. Never deleted: retired, so that
    contact log entries naming it keep their party. Contact details are encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.CharField(max_length=200)
    contact_name = EncryptedTextField()
    role = models.CharField(max_length=200, blank=True, default="")
    contact_details = EncryptedTextField()
    may_be_told = models.CharField(max_length=16, choices=MayBeTold.choices)
    may_be_told_notes = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retirement_reason = EncryptedTextField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "created_at"]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.role})" if self.role else self.organisation

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


class PartnerRevision(Revision):
    """The values a change to a partner directory entry replaced: who changed what, when and
    why (haven.revisions), encrypted and bound to the entry."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="revisions")
    vault_owner = "partner"

    class Meta(Revision.Meta):
        pass

    def __str__(self) -> str:
        return f"partner {self.partner_id} v{self.version}"


class ContactEntry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    occurred_at = models.DateTimeField()
    method = models.CharField(max_length=12, choices=ContactMethod.choices)
    summary = EncryptedTextField()
    concerns = EncryptedJSONField(null=True, blank=True)
    follow_up = EncryptedTextField(null=True, blank=True)
    follow_up_due = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    # Withdrawn as entered in error: kept and shown as withdrawn, never deleted; who withdrew
    # it and why are in its history (RecordRevision).
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"contact {self.pk}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def concern_labels(self) -> list[str]:
        """The concerns as people read them ("Strain", not `strain`)."""
        labels = dict(Concern.choices)
        return [str(labels.get(code, code)) for code in self.concerns or []]


class TaskKind(models.TextChoices):
    TASK = "task", "Task"
    REVIEW = "review", "Review"
    ESCALATION = "escalation", "Escalation"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class CaseTask(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="tasks")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    kind = models.CharField(max_length=12, choices=TaskKind.choices, default=TaskKind.TASK)
    title = EncryptedTextField()
    details = EncryptedTextField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    response = EncryptedTextField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # The checklist (and its version) this task was set from, if any.
    checklist = models.ForeignKey(
        "ChecklistVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on"]
        indexes = [models.Index(fields=["owner", "status", "due_on"], name="cases_task_owner_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"

    @property
    def overdue(self) -> bool:
        return self.status == TaskStatus.OPEN and self.due_on < timezone.localdate()


class Document(SealedDocument):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"


class RecordRevision(Revision):
    """The values a correction or ending of a location or contact replaced: its history
    (haven.revisions), bound to the case like the record itself."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="revisions")
    # Encrypted fields are bound to the owning case: re-pointing the row breaks them.
    vault_owner = "case"
    kind = models.CharField(max_length=20)  # "location", "contact" (selectors.RECORD_MODELS)
    record_id = models.UUIDField(db_index=True)

    class Meta(Revision.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id} v{self.version}"


class ChecklistTemplate(models.Model):
    """A named, ordered list of tasks (e.g. "Relocation checklist") kept by protection managers
    and applied to a case by its team. Never deleted: retired, so tasks set from it keep their
    origin. Every change makes a new `ChecklistVersion`; earlier versions are its history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)  # the current ChecklistVersion.number
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retirement_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["name", "created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


class ChecklistVersion(models.Model):
    """One version of a checklist: its name and items as they stood, who made it and why."""

    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    reason = models.TextField(blank=True, default="")  # why it changed ("" for the first)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="cases_checklist_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.number})"


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(ChecklistVersion, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=12, choices=TaskKind.choices, default=TaskKind.TASK)
    due_in_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.title


class CaseLink(models.Model):
    """Two cases that belong together (e.g. family members protected in separate cases), with
    why. Shown from either case, and only to someone who may see both."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="links_made")
    linked_case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="links_received")
    # The reason is encrypted and bound to the case the link was made from.
    vault_owner = "case"
    reason = EncryptedTextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "linked_case"], name="cases_link_unique"),
            models.CheckConstraint(
                condition=~models.Q(case=models.F("linked_case")), name="cases_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"link {self.pk}"

    def other(self, case_id: object) -> Case:
        """The case at the far end of the link, seen from `case_id`."""
        return self.linked_case if self.case_id == case_id else self.case

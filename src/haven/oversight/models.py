"""Oversight records: complaints and reviews, misconduct panels, appeals tribunals, pension
forfeiture and pseudonymised workforce records.

Complainants' names, contact details and narratives are encrypted (vault fields); officers are
identified only by a reference the force supplies, and workforce records only by a keyed
pseudonym, so the statistics never touch personal data.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from haven.access.models import Classified
from haven.vault.fields import BlindIndexField, EncryptedTextField
from haven.vault.models import SealedDocument

COMPLAINT = "oversight_complaint"
REVIEW = "oversight_review"
HEARING = "oversight_hearing"
PANEL_MEMBER = "oversight_panel_member"
TRIBUNAL = "oversight_tribunal"
FORFEITURE = "oversight_forfeiture"
WORKFORCE = "oversight_workforce"
STATISTICS = "oversight_statistics"
GOVERNANCE = "oversight_governance"


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    LOGGED = "logged", "Logged"
    RECORDED = "recorded", "Recorded under Schedule 3"
    OUTSIDE_SCH3 = "outside_sch3", "Handled outside Schedule 3"
    IOPC_REFERRED = "iopc_referred", "Referred to the IOPC"
    HANDLED = "handled", "Handled"
    OUTCOME_NOTIFIED = "outcome_notified", "Outcome notified"
    REVIEW_WINDOW = "review_window", "Review applied for"
    REVIEW_DETERMINED = "review_determined", "Review determined"
    RECOMMENDATION_RESPONSE = "recommendation_response", "Force response received"
    # A complaint about the Commissioner (ELPB Regs 2012): the police and crime panel handles it.
    NOT_RECORDED = "not_recorded", "Not recorded"
    PANEL_FORWARDED = "panel_forwarded", "Forwarded to the police and crime panel"
    PANEL_OUTCOME = "panel_outcome", "Panel's outcome recorded"
    CLOSED = "closed", "Closed"


class AppropriateAuthority(models.TextChoices):
    FORCE = "force", "Chief officer (force professional standards)"
    LOCAL_POLICING_BODY = "local_policing_body", "Local policing body (complaint about the chief)"
    POLICE_AND_CRIME_PANEL = (
        "police_and_crime_panel",
        "Police and crime panel (complaint about the Commissioner)",
    )


class ReviewBody(models.TextChoices):
    LOCAL_POLICING_BODY = "local_policing_body", "This body (local policing body)"
    IOPC = "iopc", "IOPC"
    NONE = "none", "None: the 2012 Regulations give no review (complaint about the Commissioner)"


class ComplaintSubject(models.TextChoices):
    """Whom the complaint is about, which decides the rules it follows and who handles it."""

    OFFICER = "officer", "A police officer or member of staff"
    CHIEF_OFFICER = "chief_officer", "The chief officer (this body is the appropriate authority)"
    COMMISSIONER = "commissioner", "The Commissioner (the police and crime panel handles it)"


class PanelOutcome(models.TextChoices):
    """What the police and crime panel reports it decided on a complaint about the
    Commissioner (ELPB Regs 2012): the panel decides, this office records."""

    INFORMALLY_RESOLVED = "informally_resolved", "Resolved informally (reg 28)"
    NOT_RESOLVED = "not_resolved", "Informal resolution tried, not resolved (reg 28)"
    HANDLED_OTHERWISE = "handled_otherwise", "Handled otherwise or no action taken (reg 15)"
    WITHDRAWN = "withdrawn", "Withdrawn (reg 16)"


class Reg32Limb(models.TextChoices):
    """Why the IOPC is the relevant review body: a PCMR 2020 reg 32 description (Sch 3
    para 30(1)(a)), or, for a complaint whose appropriate authority is the local policing body
    (the chief officer's own conduct), Sch 3 para 30 directly."""

    NONE = "", "None: no right to apply to the IOPC"
    A = "a", "reg 32(a) concerns a senior officer"
    B = "b", "reg 32(b) could justify criminal or disciplinary proceedings, or Art 2/3"
    C = "c", "reg 32(c) was or must be referred to the IOPC"
    D = "d", "reg 32(d) is treated as referred"
    E = "e", "reg 32(e) arises from the same incident"
    F = "f", "reg 32(f) part of the complaint falls within (a)-(e)"
    LOCAL_POLICING_BODY = (
        "p",
        "PRA 2002 Sch 3 para 30: the local policing body is the appropriate authority",
    )


class Category(models.TextChoices):
    DELIVERY_OF_DUTIES = "delivery_of_duties", "Delivery of duties and service"
    POLICE_POWERS = "police_powers", "Police powers, policies and procedures"
    INDIVIDUAL_BEHAVIOURS = "individual_behaviours", "Individual behaviours"
    DISCRIMINATORY = "discriminatory", "Discriminatory behaviour"
    USE_OF_FORCE = "use_of_force", "Use of force"
    ABUSE_OF_POSITION = "abuse_of_position", "Abuse of position or corruption"
    OTHER = "other", "Other"


class Reg4Criterion(models.TextChoices):
    DEATH_OR_SERIOUS_INJURY = "death_serious_injury", "Death or serious injury"
    SERIOUS_ASSAULT = "serious_assault", "Serious assault"
    SERIOUS_SEXUAL_OFFENCE = "serious_sexual_offence", "Serious sexual offence"
    SERIOUS_CORRUPTION = "serious_corruption", "Serious corruption"
    DISCRIMINATION = "discrimination", "Discrimination-aggravated conduct"
    RELEVANT_OFFENCE = "relevant_offence", "A relevant offence"
    SAME_INCIDENT = "same_incident", "Arises from the same incident as a complaint above"
    CHIEF_OFFICER = (
        "chief_officer",
        "Conduct of a chief officer or the Met Deputy Commissioner not ruled out",
    )


class Outcome(models.TextChoices):
    SERVICE_ACCEPTABLE = "service_acceptable", "Service acceptable"
    SERVICE_NOT_ACCEPTABLE = "service_not_acceptable", "Service not acceptable"
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    REFLECTIVE_PRACTICE = "reflective_practice", "Reflective practice review"
    MISCONDUCT_PROCEEDINGS = "misconduct_proceedings", "Misconduct proceedings"
    WITHDRAWN = "withdrawn", "Withdrawn"


class UpdateMethod(models.TextChoices):
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"
    TELEPHONE = "telephone", "Telephone (confirmed in writing)"


class Complaint(Classified):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=24, unique=True)
    force_reference = models.CharField(max_length=40, blank=True)
    received_on = models.DateField()
    status = models.CharField(
        max_length=24, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    category = models.CharField(max_length=32, choices=Category.choices)
    against_chief_officer = models.BooleanField(default=False)
    # A complaint about the Commissioner (a relevant office holder, ELPB Regs 2012).
    against_commissioner = models.BooleanField(default=False)
    appropriate_authority = models.CharField(
        max_length=24, choices=AppropriateAuthority.choices, default=AppropriateAuthority.FORCE
    )
    reg4_criteria = models.JSONField(default=list, blank=True)
    review_body = models.CharField(
        max_length=24, choices=ReviewBody.choices, default=ReviewBody.LOCAL_POLICING_BODY
    )
    review_body_limb = models.CharField(
        max_length=1, choices=Reg32Limb.choices, blank=True, default=""
    )
    complainant_name = EncryptedTextField()
    complainant_contact = EncryptedTextField(blank=True, default="")
    narrative = EncryptedTextField(blank=True, default="")
    name_index = BlindIndexField(kind="name", sources=("complainant_name",))
    iopc_referred_on = models.DateField(null=True, blank=True)
    handled_on = models.DateField(null=True, blank=True)
    # PCMR 2020 reg 13 reports concern an investigation: null while the complaint is not being
    # investigated (handled outside Sch 3, or otherwise than by investigation).
    investigation_started_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True)
    outcome_notice_on = models.DateField(
        null=True, blank=True, help_text="Date the reg 33(2)(a) information was given"
    )
    closed_on = models.DateField(null=True, blank=True)
    # A complaint about the Commissioner: when it went to the police and crime panel, the
    # panel's reference, and the outcome the panel reported (its decision, not this body's).
    panel_forwarded_on = models.DateField(null=True, blank=True)
    panel_reference = models.CharField(max_length=40, blank=True)
    panel_outcome = models.CharField(max_length=24, choices=PanelOutcome.choices, blank=True)
    panel_outcome_on = models.DateField(null=True, blank=True)
    # The oversight caseworker who owns the complaint (services.assign: oversight officers only).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="oversight_complaints",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on", "-reference"]
        indexes = [models.Index(fields=["status", "received_on"], name="oversight_cmp_status")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(against_chief_officer=True, against_commissioner=True),
                name="oversight_cmp_one_subject",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def subject(self) -> str:
        if self.against_commissioner:
            return ComplaintSubject.COMMISSIONER
        if self.against_chief_officer:
            return ComplaintSubject.CHIEF_OFFICER
        return ComplaintSubject.OFFICER


class ComplaintEvent(models.Model):
    """The complaint's history: every state change, in order."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, choices=ComplaintStatus.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.from_status} -> {self.to_status}"


class ComplainantUpdate(models.Model):
    """A progress update given to the complainant (PCMR reg 34: at least every 4 weeks)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="updates")
    sent_on = models.DateField()
    method = models.CharField(max_length=16, choices=UpdateMethod.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["sent_on", "pk"]

    def __str__(self) -> str:
        return f"update {self.sent_on}"


class ReviewStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    REFUSED_OUT_OF_TIME = "refused_out_of_time", "Refused: out of time"
    DETERMINED = "determined", "Determined"


class ReviewApplication(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="reviews")
    # Encrypted fields are bound to the owning complaint: re-pointing the row breaks them.
    vault_owner = "complaint"
    received_on = models.DateField()
    forwarded_days = models.PositiveIntegerField(
        default=0, help_text="Days spent forwarding a misdirected application (reg 29(3))"
    )
    extension_days = models.PositiveIntegerField(default=0)
    extension_reason = EncryptedTextField(blank=True, default="")
    due_on = models.DateField()
    in_time = models.BooleanField()
    status = models.CharField(
        max_length=24, choices=ReviewStatus.choices, default=ReviewStatus.RECEIVED
    )
    determined_on = models.DateField(null=True, blank=True)
    reasonable_and_proportionate = models.BooleanField(null=True, blank=True)
    recommendations = EncryptedTextField(blank=True, default="")
    force_response = EncryptedTextField(blank=True, default="")
    force_response_on = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="oversight_reviews",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on"]

    def __str__(self) -> str:
        return f"review application {self.received_on}"

    @property
    def timeliness(self) -> str:
        if not self.in_time:
            return "Out of time"
        return "In time (extended)" if self.extension_days else "In time"


class MemberKind(models.TextChoices):
    LEGAL = "legal", "Legally qualified chair or adviser"
    INDEPENDENT = "independent", "Independent panel member"


class PanelMember(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=MemberKind.choices)
    term_start = models.DateField()
    term_end = models.DateField()
    eligible = models.BooleanField(
        default=True, help_text="Eligibility confirmed (e.g. judicial-appointment eligibility)"
    )
    qualifications = models.CharField(max_length=200, blank=True)
    # Conduct Regs 2020 reg 28 as amended by S.I. 2024/521: one of the two independent members
    # must have relevant qualifications or experience.
    relevant_qualifications = models.BooleanField(default=False)
    rota_position = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    # Training: a member whose recorded training has lapsed by the hearing date is not drawn.
    training_completed_on = models.DateField(null=True, blank=True)
    training_expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "rota_position"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "rota_position"], name="oversight_rota_unique")
        ]

    def __str__(self) -> str:
        return self.name


class DeclaredInterest(models.Model):
    member = models.ForeignKey(PanelMember, on_delete=models.CASCADE, related_name="interests")
    subject = models.CharField(
        max_length=120, help_text="Officer reference or force the interest concerns"
    )
    description = models.CharField(max_length=300, blank=True)
    declared_on = models.DateField()

    class Meta:
        ordering = ["declared_on", "pk"]

    def __str__(self) -> str:
        return self.subject


class Unavailability(models.Model):
    member = models.ForeignKey(PanelMember, on_delete=models.CASCADE, related_name="absences")
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_on", "pk"]

    def __str__(self) -> str:
        return f"{self.starts_on} to {self.ends_on}"


class HearingStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    NOTICE = "notice", "Notice served"
    RESPONSE_DUE = "response_due", "Response due"
    HEARING = "hearing", "Hearing"
    OUTCOME = "outcome", "Outcome"
    APPEAL_WINDOW = "appeal_window", "Appeal window"
    PAT = "pat", "Police appeals tribunal"
    FINAL = "final", "Final"


class MisconductHearing(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=24, unique=True)
    officer_reference = models.CharField(max_length=60)
    force = models.CharField(max_length=80)
    senior_officer = models.BooleanField(default=False)
    # A chief officer, the Met Deputy Commissioner or an Assistant Commissioner (always senior):
    # from 7 May 2024 HMCIC or an HMI chairs their panel.
    chief_rank = models.BooleanField(default=False)
    referral_date = models.DateField()
    panel_model = models.CharField(max_length=32)
    status = models.CharField(
        max_length=16, choices=HearingStatus.choices, default=HearingStatus.REFERRED
    )
    notice_on = models.DateField(null=True, blank=True)
    # Conduct Regs 2020 reg 31(4): witness lists run from the day the officer actually complied
    # with reg 31(2), not from the day the response was due.
    response_on = models.DateField(null=True, blank=True)
    hearing_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    outcome_on = models.DateField(null=True, blank=True)
    # The appeal clock runs from the day the officer is supplied with the written decision.
    decision_supplied_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-referral_date", "-reference"]

    def __str__(self) -> str:
        return self.reference


class SelectionMethod(models.TextChoices):
    ROTA = "rota", "Rota (next available)"
    RANDOM = "random", "Seeded random draw"
    MANUAL = "manual", "Chosen by name"
    NOMINATED = "nominated", "Nominated by the force"


class PanelAppointment(models.Model):
    hearing = models.ForeignKey(
        MisconductHearing, on_delete=models.CASCADE, related_name="appointments"
    )
    seat = models.CharField(max_length=32)
    member = models.ForeignKey(
        PanelMember, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    nominee_name = models.CharField(max_length=120, blank=True)
    method = models.CharField(max_length=16, choices=SelectionMethod.choices)
    rota_position = models.PositiveIntegerField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    explanation = models.TextField()
    appointed_at = models.DateTimeField(default=timezone.now)
    appointed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["hearing", "seat"], name="oversight_one_per_seat")
        ]

    def __str__(self) -> str:
        return f"{self.seat}: {self.appointee}"

    @property
    def appointee(self) -> str:
        return self.member.name if self.member else self.nominee_name


class Determination(models.TextChoices):
    ALLOWED = "allowed", "Appeal allowed"
    DISMISSED = "dismissed", "Appeal dismissed"
    WITHDRAWN = "withdrawn", "Appeal withdrawn"


class PoliceAppealTribunal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=24, unique=True)
    hearing = models.ForeignKey(
        MisconductHearing, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appellant_reference = models.CharField(max_length=60)
    senior_officer_appellant = models.BooleanField(default=False)
    notice_received_on = models.DateField()
    chair_name = models.CharField(max_length=120, blank=True)
    senior_member_name = models.CharField(max_length=120, blank=True)
    lay_member_name = models.CharField(max_length=120, blank=True)
    lay_member_never_police = models.BooleanField(default=False)
    # Police Act 1996 Sch 6 para 1(1)(c): a senior officer's tribunal has the Home Office
    # permanent secretary or a director they nominate as its third member.
    home_office_member_name = models.CharField(max_length=120, blank=True)
    # Chair and lay member chosen from the panel-member register (services.seat_tribunal_member);
    # the *_name fields keep what was typed before the register was used.
    chair_member = models.ForeignKey(
        PanelMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lay_member = models.ForeignKey(
        PanelMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hearing_on = models.DateField(null=True, blank=True)
    determination = models.CharField(max_length=16, choices=Determination.choices, blank=True)
    determined_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-notice_received_on", "-reference"]

    def __str__(self) -> str:
        return self.reference


class ForfeitureStatus(models.TextChoices):
    CONVICTION = "conviction", "Conviction recorded"
    PSA_DECISION = "psa_decision", "Decided to apply for a certificate"
    HO_CERTIFICATE = "ho_certificate", "Home Office certificate issued"
    FORFEITURE_DECISION = "forfeiture_decision", "Forfeiture decided"
    APPEAL = "appeal", "Under appeal"
    IMPLEMENTED = "implemented", "Implemented"


class ForfeitureGround(models.TextChoices):
    TREASON = "treason", "Treason"
    OFFICIAL_SECRETS = "official_secrets", "Official Secrets Act offence (10 years or more)"
    CONNECTED_WITH_SERVICE = "connected_with_service", "Offence connected with police service"


class PensionScheme(models.TextChoices):
    PPS_1987 = "pps_1987", "Police Pension Scheme 1987"
    NPPS_2006 = "npps_2006", "New Police Pension Scheme 2006"
    PPS_2015 = "pps_2015", "Police Pension Scheme 2015"


class PensionForfeiture(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=24, unique=True)
    officer_reference = models.CharField(max_length=60)
    offence = models.CharField(max_length=200)
    ground = models.CharField(max_length=32, choices=ForfeitureGround.choices)
    # Which scheme's forfeiture provision (and ceiling) applies (config.forfeiture_limit).
    scheme = models.CharField(
        max_length=16, choices=PensionScheme.choices, default=PensionScheme.PPS_1987
    )
    conviction_on = models.DateField()
    status = models.CharField(
        max_length=24, choices=ForfeitureStatus.choices, default=ForfeitureStatus.CONVICTION
    )
    psa_decision_on = models.DateField(null=True, blank=True)
    certificate_issued_on = models.DateField(null=True, blank=True)
    percentage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    permanent = models.BooleanField(default=True)
    # Confirmed at the decision that the part forfeited leaves the guaranteed minimum pension.
    gmp_preserved = models.BooleanField(default=False)
    duration_months = models.PositiveIntegerField(null=True, blank=True)
    decision_on = models.DateField(null=True, blank=True)
    appeal_lodged_on = models.DateField(null=True, blank=True)
    appeal_outcome = models.CharField(max_length=200, blank=True)
    implemented_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-conviction_on", "-reference"]

    def __str__(self) -> str:
        return self.reference


class WorkforceRecord(models.Model):
    """One pseudonymised member of the workforce at a snapshot date (for equality statistics).

    The staff number is never stored: only a keyed pseudonym (HMAC), so records from successive
    snapshots can be matched without identifying anyone.
    """

    pseudonym = models.CharField(max_length=64)
    snapshot_on = models.DateField()
    force = models.CharField(max_length=80)
    grade = models.CharField(max_length=24)
    age_band = models.CharField(max_length=24)
    disability = models.CharField(max_length=24)
    gender_reassignment = models.CharField(max_length=24)
    marriage_civil_partnership = models.CharField(max_length=24)
    pregnancy_maternity = models.CharField(max_length=24)
    race = models.CharField(max_length=24)
    religion_belief = models.CharField(max_length=24)
    sex = models.CharField(max_length=24)
    sexual_orientation = models.CharField(max_length=24)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pseudonym", "snapshot_on"], name="oversight_workforce_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pseudonym[:8]} {self.snapshot_on}"


class DeadlineReminder(models.Model):
    """A reminder sent to one person: a deadline (its key and due date) crossing one threshold
    of working days. Unique, so that later scheduler runs find it and send nothing again; a
    deadline that moves (a new due date) is a new deadline and is reminded afresh."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    deadline_key = models.CharField(max_length=120)
    due_on = models.DateField()
    threshold = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "deadline_key", "due_on", "threshold"],
                name="oversight_reminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.deadline_key} due {self.due_on}: {self.threshold} working days"


class Direction(models.TextChoices):
    INCOMING = "in", "Received"
    OUTGOING = "out", "Sent"


class CorrespondenceMethod(models.TextChoices):
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"
    TELEPHONE = "telephone", "Telephone"
    IN_PERSON = "in_person", "In person"


class NoteKind(models.TextChoices):
    NOTE = "note", "Note"
    CORRESPONDENCE = "correspondence", "Correspondence"


class ComplaintNote(models.Model):
    """A caseworker's note, or a piece of correspondence, on a complaint or one of its review
    applications. The text and the other party are encrypted, bound to the complaint (like the
    review's fields); direction, date and method are plain so lists can sort and filter."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="notes")
    review = models.ForeignKey(
        ReviewApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="notes"
    )
    vault_owner = "complaint"
    kind = models.CharField(max_length=16, choices=NoteKind.choices)
    text = EncryptedTextField()
    direction = models.CharField(max_length=3, choices=Direction.choices, blank=True)
    party = EncryptedTextField(blank=True, default="")
    method = models.CharField(max_length=16, choices=CorrespondenceMethod.choices, blank=True)
    on = models.DateField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["on", "created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.on}"


class ComplaintDocument(SealedDocument):
    """A document on a complaint or one of its review applications. Title and file name are
    encrypted bound to the complaint; the bytes are a vault blob bound to complaint and document
    (``blob_aad``), so a row or blob moved to another complaint fails to open."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="documents")
    review = models.ForeignKey(
        ReviewApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    vault_owner = "complaint"


class Assignment(models.Model):
    """Who owned a complaint or review and when it changed hands (with the reason)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="assignments")
    review = models.ForeignKey(
        ReviewApplication,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    vault_owner = "complaint"
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    previous = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = EncryptedTextField(blank=True, default="")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.complaint_id} -> {self.assignee_id}"


class MeetingKind(models.TextChoices):
    ACCOUNTABILITY = "accountability", "Accountability board"
    PANEL = "panel", "Police and crime panel"
    AUDIT = "audit", "Joint audit committee"
    OTHER = "other", "Other"


class GovernanceMeeting(models.Model):
    """A meeting at which the Commissioner holds the chief officer to account (PRA 2011 s.1(7))."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=24, unique=True)
    kind = models.CharField(max_length=16, choices=MeetingKind.choices)
    title = models.CharField(max_length=200)
    held_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-reference"]

    def __str__(self) -> str:
        return self.reference


class GovernanceDecision(models.Model):
    meeting = models.ForeignKey(
        GovernanceMeeting, on_delete=models.CASCADE, related_name="decisions"
    )
    summary = models.CharField(max_length=500)
    decided_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["decided_on", "pk"]

    def __str__(self) -> str:
        return self.summary[:60]


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class GovernanceAction(models.Model):
    meeting = models.ForeignKey(GovernanceMeeting, on_delete=models.CASCADE, related_name="actions")
    decision = models.ForeignKey(
        GovernanceDecision, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    description = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="governance_actions"
    )
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    completed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"], name="oversight_action_due")]

    def __str__(self) -> str:
        return self.description[:60]

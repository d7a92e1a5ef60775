from __future__ import annotations

from typing import Any

from django import forms

from haven.ui.forms import (
    DateInput,
    ExactNameField,
    GovukForm,
    only_filter,
    sort_choice,
    yes_no_choice,
)
from haven.vault import documents

from . import characteristics, config
from .models import (
    Category,
    ComplaintStatus,
    ComplaintSubject,
    CorrespondenceMethod,
    Determination,
    Direction,
    ForfeitureGround,
    ForfeitureStatus,
    HearingStatus,
    MeetingKind,
    MemberKind,
    MisconductHearing,
    Outcome,
    PanelMember,
    PanelOutcome,
    PensionScheme,
    Reg4Criterion,
    Reg32Limb,
    ReviewBody,
    SelectionMethod,
    UpdateMethod,
)

YES_NO = [("no", "No"), ("yes", "Yes")]
# The date asked beside a dated complaint action (the complaint page), in plain words.
ACTION_DATES = {"handled": "Date handled", "refer_iopc": "Date referred to the IOPC"}


def date_field(label: str, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        help_text=help_text,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"required": f"Enter the {label.lower()}", "invalid": "Enter a real date"},
    )


def yes_no(label: str, help_text: str = "") -> forms.TypedChoiceField:
    # A fact the law turns on: radios with neither chosen, so the user answers (issue 20).
    return yes_no_choice(label, YES_NO, help_text=help_text)


def text(
    label: str, max_length: int = 200, required: bool = True, **kwargs: Any
) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        error_messages={"required": f"Enter the {label.lower()}"},
        **kwargs,
    )


class ComplaintForm(GovukForm):
    received_on = date_field("Date received")
    category = forms.ChoiceField(label="Allegation category", choices=Category.choices)
    complainant_name = text("Complainant's name")
    complainant_contact = text("Complainant's contact details", 500, required=False)
    narrative = text("What the complaint is about", 10000, required=False, widget=forms.Textarea)
    schedule3 = yes_no_choice(
        "Handling",
        [("yes", "Record under Schedule 3"), ("no", "Log and handle outside Schedule 3")],
        initial="yes",
    )
    subject = forms.ChoiceField(
        label="Who is the complaint about?",
        choices=ComplaintSubject.choices,
        initial=ComplaintSubject.OFFICER,
        widget=forms.RadioSelect,
        help_text=(
            "The chief officer: this body is the appropriate authority (PRA 2002 s.29). The "
            "Commissioner: the police and crime panel handles it (ELPB Regs 2012), and this "
            "office records and forwards it"
        ),
    )
    reg4_criteria = forms.MultipleChoiceField(
        label="Mandatory referral criteria met (PCMR reg 4)",
        choices=Reg4Criterion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    review_body = forms.ChoiceField(
        label="Relevant review body",
        choices=[("", "Decide from the answers above"), *ReviewBody.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    review_body_limb = forms.ChoiceField(
        label="Reason the IOPC reviews (PCMR reg 32)", choices=Reg32Limb.choices, required=False
    )
    force_reference = text("Force reference", 40, required=False)

    def clean(self) -> dict[str, Any]:
        """The subject as the two flags the service takes."""
        data = super().clean() or {}
        subject = data.pop("subject", None)
        data["against_chief_officer"] = subject == ComplaintSubject.CHIEF_OFFICER
        data["against_commissioner"] = subject == ComplaintSubject.COMMISSIONER
        return data


# The date each step on a complaint about the Commissioner records, in plain words.
COMMISSIONER_STEP_DATES = {
    "record": "Date recorded",
    "not_record": "Date of the decision",
    "tell_not_recorded": "Date the complainant was told",
    "refer": "Date referred to the IOPC",
    "forward": "Date forwarded to the panel",
    "referred_back": "Date forwarded to the panel",
    "panel_outcome": "Date the panel decided",
    "notify": "Date the complainant was told",
    "close": "Date closed",
}


class CommissionerStepForm(GovukForm):
    """One step on a complaint about the Commissioner: its date, and the facts the step's move
    requires (workflow.COMMISSIONER_COMPLAINT_TRANSITIONS); the other fields are dropped."""

    on = date_field("Date")
    grounds = text(
        "Grounds for not recording it",
        300,
        widget=forms.Textarea,
        help_text="The complainant is told the decision and these grounds (ELPB reg 10(2))",
    )
    panel_reference = text("Panel's reference", 40)
    panel_outcome = forms.ChoiceField(
        label="Outcome the panel reported",
        choices=PanelOutcome.choices,
        widget=forms.RadioSelect,
        help_text="The police and crime panel decides the outcome: record what it reported",
    )

    def __init__(self, *args: Any, step: str, required: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("grounds", "panel_reference", "panel_outcome"):
            if name not in required:
                del self.fields[name]
        self.fields["on"].label = COMMISSIONER_STEP_DATES.get(step, "Date")
        self.fields["on"].error_messages["required"] = (
            f"Enter the {self.fields['on'].label.lower()}"
        )


class SearchForm(GovukForm):
    """The list's filters, sent in the URL: nothing personal (the complainant's name is
    searched with ComplainantSearchForm, by POST)."""

    reference = forms.CharField(label="Reference", required=False, max_length=40)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *ComplaintStatus.choices]
    )
    category = forms.ChoiceField(
        label="Category", required=False, choices=[("", "Any category"), *Category.choices]
    )
    overdue = only_filter("Overdue", "Only overdue")
    chief_officer = only_filter(
        "About the chief officer", "Only complaints about the chief officer"
    )
    sort = sort_choice(
        [
            ("-received", "Newest first"),
            ("received", "Oldest first"),
            ("reference", "Reference"),
            ("status", "Status"),
        ]
    )


class ComplainantSearchForm(GovukForm):
    """Search by a complainant's exact name: sent by POST only, so that the name never appears
    in a URL, a browser history or the server's request log (as the cases' person search)."""

    complainant = ExactNameField("Complainant's exact name")


class OutcomeForm(GovukForm):
    outcome = forms.ChoiceField(label="Outcome", choices=Outcome.choices, widget=forms.RadioSelect)
    notice_on = date_field(
        "Date of the outcome notice", help_text="When the reg 33(2)(a) information was given"
    )


class UpdateForm(GovukForm):
    sent_on = date_field("Date of the update")
    method = forms.ChoiceField(
        label="How it was given", choices=UpdateMethod.choices, widget=forms.RadioSelect
    )


class ReviewForm(GovukForm):
    received_on = date_field("Date the application was received")
    forwarded_days = forms.IntegerField(
        label="Days spent forwarding a misdirected application",
        min_value=0,
        max_value=365,
        initial=0,
        help_text="Excluded from the 28 days (PCMR reg 29(3))",
    )
    extension_days = forms.IntegerField(
        label="Extension in days", min_value=0, max_value=365, initial=0
    )
    extension_reason = text(
        "Special circumstances justifying the extension",
        2000,
        required=False,
        widget=forms.Textarea,
    )

    def clean(self) -> dict[str, Any]:
        """The service's rule, here too, so that it joins the first error summary."""
        data = super().clean() or {}
        if data.get("extension_days") and not (data.get("extension_reason") or "").strip():
            self.add_error(
                "extension_reason", "An extension needs a reason (special circumstances)"
            )
        return data


class ExtendForm(GovukForm):
    extension_days = forms.IntegerField(label="Extension in days", min_value=1, max_value=365)
    reason = text("Special circumstances", 2000, widget=forms.Textarea)


class DetermineForm(GovukForm):
    determined_on = date_field("Date determined")
    reasonable_and_proportionate = yes_no_choice(
        "Was the outcome reasonable and proportionate?",
        [("yes", "Yes"), ("no", "No")],
        error_messages={"required": "Say whether the outcome was reasonable and proportionate"},
    )
    recommendations = text(
        "Recommendations",
        10000,
        required=False,
        widget=forms.Textarea,
        help_text="Required when the outcome was not reasonable and proportionate",
    )


class ResponseForm(GovukForm):
    response = text("The force's response", 10000, widget=forms.Textarea)
    response_on = date_field("Date of the response")


class PanelMemberForm(GovukForm):
    name = text("Name", 120)
    kind = forms.ChoiceField(label="Register", choices=MemberKind.choices, widget=forms.RadioSelect)
    term_start = date_field("Term starts")
    term_end = date_field("Term ends")
    eligible = yes_no("Eligibility confirmed?")
    qualifications = text("Qualifications or experience", 200, required=False)
    relevant_qualifications = yes_no(
        "Independent member with relevant qualifications or experience?",
        help_text="From 7 May 2024 one of the two independent members must have them",
    )


class InterestForm(GovukForm):
    subject = text("Officer reference or force", 120)
    description = text("Description", 300, required=False)
    declared_on = date_field("Date declared")


class TrainingForm(GovukForm):
    completed_on = date_field("Training completed")
    expires_on = date_field("Training expires", help_text="Not drawn for hearings after this")


class UnavailabilityForm(GovukForm):
    starts_on = date_field("Unavailable from")
    ends_on = date_field("Unavailable until")
    reason = text("Reason", 200, required=False)


class HearingForm(GovukForm):
    officer_reference = text("Officer reference", 60, help_text="As the force gives it; no name")
    force = text("Force", 80)
    referral_date = date_field(
        "Referral date", help_text="Decides the panel model (cut-over 7 May 2024)"
    )
    senior_officer = yes_no("Is the officer a senior officer?")
    chief_rank = yes_no(
        "Is the officer a chief officer, the Deputy Commissioner or an Assistant Commissioner?"
    )


class AppointPanelForm(GovukForm):
    method = forms.ChoiceField(
        label="Selection method", choices=SelectionMethod.choices[:2], widget=forms.RadioSelect
    )
    seed = forms.IntegerField(
        label="Seed for the random draw",
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="Leave blank for a fresh random seed; it is recorded either way",
    )

    def __init__(self, *args: Any, hearing: MisconductHearing, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for seat in config.panel_model(hearing.panel_model).nominated_seats:
            self.fields[seat.code] = text(f"{seat.label}: name", 120, required=False)

    def nominees(self) -> dict[str, str]:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("method", "seed")
        }


class AppointMemberForm(GovukForm):
    seat = forms.ChoiceField(label="Seat", widget=forms.RadioSelect)
    member = forms.ModelChoiceField(label="Register member", queryset=PanelMember.objects.none())
    reason = text("Reason for choosing by name", 300)

    def __init__(self, *args: Any, hearing: MisconductHearing, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = config.panel_model(hearing.panel_model)
        self.fields["seat"].choices = [(s.code, s.label) for s in model.drawn_seats]  # type: ignore[attr-defined]
        self.fields["member"].queryset = PanelMember.objects.filter(active=True)  # type: ignore[attr-defined]


class AdvanceHearingForm(GovukForm):
    to = forms.ChoiceField(label="Next stage", widget=forms.RadioSelect)
    on = date_field("Date")
    outcome = text("Outcome (at the outcome stage)", 200, required=False)

    def __init__(self, *args: Any, allowed: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(s, HearingStatus(s).label) for s in allowed]  # type: ignore[attr-defined]


class InvestigationForm(GovukForm):
    started_on = date_field(
        "Date the investigation began",
        help_text="Reports under PCMR 2020 reg 13 fall due 12 months from receipt, then every 6",
    )


class HearingFactForm(GovukForm):
    fact = forms.ChoiceField(label="What happened", widget=forms.RadioSelect)
    on = date_field("Date")

    def __init__(self, *args: Any, facts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fact"].choices = facts  # type: ignore[attr-defined]


class TribunalForm(GovukForm):
    appellant_reference = text("Appellant reference", 60)
    notice_received_on = date_field("Notice of appeal received")
    hearing = forms.ModelChoiceField(
        label="Misconduct case appealed", required=False, queryset=MisconductHearing.objects.none()
    )
    senior_officer_appellant = yes_no("Is the appellant a senior officer?")
    senior_member_name = text(
        "Senior officer member (for a senior officer: HMCIC or an HMI)", 120, required=False
    )
    home_office_member_name = text(
        "Home Office member (senior officer only: permanent secretary or nominated director)",
        120,
        required=False,
    )
    hearing_on = date_field("Tribunal date", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hearing"].queryset = MisconductHearing.objects.all()  # type: ignore[attr-defined]


class TribunalDetermineForm(GovukForm):
    determination = forms.ChoiceField(
        label="Determination", choices=Determination.choices, widget=forms.RadioSelect
    )
    determined_on = date_field("Date determined")


class ForfeitureForm(GovukForm):
    officer_reference = text("Officer reference", 60)
    offence = text("Offence", 200)
    ground = forms.ChoiceField(
        label="Ground", choices=ForfeitureGround.choices, widget=forms.RadioSelect
    )
    scheme = forms.ChoiceField(
        label="Pension scheme", choices=PensionScheme.choices, widget=forms.RadioSelect
    )
    conviction_on = date_field("Date of conviction")


class ForfeitureStepForm(GovukForm):
    to = forms.ChoiceField(label="Next step", widget=forms.RadioSelect)
    on = date_field("Date")
    percentage = forms.DecimalField(
        label="Percentage forfeited",
        required=False,
        max_digits=6,
        decimal_places=2,
        help_text="At most the ceiling of the officer's pension scheme (see the rules page)",
    )
    gmp_preserved = yes_no(
        "Does the part forfeited leave the guaranteed minimum pension in payment?"
    )
    permanent = yes_no_choice(
        "Duration",
        [("yes", "Permanent"), ("no", "For a fixed period")],
        initial="yes",
    )
    duration_months = forms.IntegerField(
        label="Fixed period in months", required=False, min_value=1, max_value=1200
    )
    appeal_outcome = text("Outcome of the appeal", 200, required=False)

    def __init__(self, *args: Any, allowed: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(s, ForfeitureStatus(s).label) for s in allowed]  # type: ignore[attr-defined]


class StatisticsForm(GovukForm):
    characteristic = forms.ChoiceField(
        label="Protected characteristic",
        required=False,
        initial="sex",
        choices=[(c.code, c.label) for c in characteristics.CHARACTERISTICS],
    )
    threshold = forms.IntegerField(
        label="Suppress counts below",
        required=False,
        min_value=1,
        max_value=100,
        help_text="Can only be raised above the configured minimum",
    )


class ImportForm(GovukForm):
    kind = forms.ChoiceField(
        label="What the file holds",
        choices=[("complaints", "Complaints"), ("workforce", "Workforce")],
        widget=forms.RadioSelect,
    )
    file = forms.FileField(label="CSV file")
    dry_run = yes_no_choice(
        "Mode",
        [("yes", "Check only (dry run)"), ("no", "Import if every row is valid")],
        initial="yes",
    )


# ---------------------------------------------------------------------------------------------
# Ownership, notes and correspondence, governance, tribunal seats


class AssignForm(GovukForm):
    assignee = forms.ChoiceField(label="Caseworker")
    reason = forms.CharField(
        label="Reason (needed to reassign)",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, caseworkers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "Choose a caseworker")] + [  # type: ignore[attr-defined]
            (str(person.pk), person.get_full_name() or person.get_username())
            for person in caseworkers
        ]
        self.fields["assignee"].error_messages["required"] = "Choose a caseworker"


def note_text(label: str, required_message: str) -> forms.CharField:
    """The text of a note or of a piece of correspondence on a complaint (ComplaintNote.text)."""
    return forms.CharField(
        label=label,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": required_message},
    )


class NoteForm(GovukForm):
    text = note_text("Note", "Enter the note")


class DocumentForm(GovukForm):
    title = forms.CharField(
        label="Title", max_length=300, error_messages={"required": "Give the document a title"}
    )
    review = forms.ChoiceField(label="About", required=False)
    file = forms.FileField(
        label="File",
        help_text=documents.ALLOWED_HINT,
        error_messages={"required": "Choose a file to upload"},
    )

    def __init__(self, *args: Any, reviews: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if reviews:
            self.fields["review"].choices = [("", "The complaint")] + [  # type: ignore[attr-defined]
                (str(r.pk), f"Review application received {r.received_on:%-d %b %Y}")
                for r in reviews
            ]
        else:
            del self.fields["review"]


class CorrespondenceForm(GovukForm):
    direction = forms.ChoiceField(
        label="Sent or received", choices=Direction.choices, widget=forms.RadioSelect
    )
    on = date_field("Date")
    party = text("With whom (party)", 200)
    method = forms.ChoiceField(
        label="How", choices=CorrespondenceMethod.choices, widget=forms.RadioSelect
    )
    text = note_text("Summary", "Summarise the correspondence")


class MeetingForm(GovukForm):
    kind = forms.ChoiceField(
        label="Kind of meeting", choices=MeetingKind.choices, widget=forms.RadioSelect
    )
    title = text("Title", 200)
    held_on = date_field("Date held")


class DecisionForm(GovukForm):
    summary = text("Decision", 500)
    decided_on = date_field("Date decided")


class ActionForm(GovukForm):
    description = text("Action", 500)
    owner_id = forms.ChoiceField(label="Owner")
    due_on = date_field("Due")

    def __init__(self, *args: Any, owners: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_id"].choices = [("", "Choose the owner")] + [  # type: ignore[attr-defined]
            (str(person.pk), person.get_full_name() or person.get_username()) for person in owners
        ]
        self.fields["owner_id"].error_messages["required"] = "Choose the owner"


class DoneForm(GovukForm):
    completed_on = date_field("Date done")


class TribunalSeatForm(GovukForm):
    seat = forms.ChoiceField(
        label="Seat", choices=[("chair", "Chair"), ("lay", "Lay member")], widget=forms.RadioSelect
    )
    member_id = forms.ChoiceField(label="Member of the register")
    never_police = yes_no("Lay member: confirmed never police, police staff, a PCC or PCC staff?")

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member_id"].choices = [("", "Choose from the register")] + [  # type: ignore[attr-defined]
            (str(m.pk), f"{m.name} ({m.get_kind_display()})") for m in members
        ]
        self.fields["member_id"].error_messages["required"] = "Choose from the register"


class ActionDateForm(GovukForm):
    """The GOV.UK date input beside a dated complaint action ("Mark as handled", "Refer to the
    IOPC"): one per action on the page, so each has its own ids; all post `on`."""

    on = forms.DateField(
        required=False,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter a real date"},
    )

    def __init__(self, *args: Any, code: str = "", **kwargs: Any) -> None:
        super().__init__(*args, auto_id=f"id_%s-{code}" if code else "id_%s", **kwargs)
        self.fields["on"].label = ACTION_DATES.get(code, "Date")

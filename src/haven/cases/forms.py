from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from haven.access.purposes import Purpose
from haven.accounts.models import User
from haven.accounts.roles import Clearance, Role
from haven.ui.forms import (
    ExactNameField,
    GovukForm,
    ReferenceField,
    VersionedForm,
    reason_field,
    sort_choice,
    yes_no_choice,
)
from haven.ui.forms import date_field as ui_date_field
from haven.vault import documents

from . import permissions
from .config import ACCEPTANCE_FACTORS
from .models import (
    Case,
    CaseStatus,
    Concern,
    ContactMethod,
    LocationKind,
    MayBeTold,
    Relationship,
    TaskKind,
    Urgency,
)

TEXT_LIMIT = 5000


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


def date_field(label: str, required: bool = True, **kwargs: object) -> forms.DateField:
    return ui_date_field(
        label,
        required,
        error_messages={"invalid": f"{label} must be a real date, for example 27 3 1980"},
        **kwargs,
    )


def text_area(label: str, required: bool = True, **kwargs: object) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.Textarea,
        max_length=TEXT_LIMIT,
        **kwargs,  # type: ignore[arg-type]
    )


def users_with(role: str) -> object:
    active = User.objects.filter(is_active=True)
    return active.filter(pk__in=[user.pk for user in active if user.has_role(role)])


class PurposeForm(GovukForm):
    purpose = forms.ChoiceField(
        label="Why are you looking at protected information?",
        choices=Purpose.choices,
        widget=forms.RadioSelect,  # cases/purpose.html draws them as a page heading's radios
        help_text="Every record you open is logged with this reason",
        error_messages={"required": "Select why you are looking at protected information"},
    )


class CaseSearchForm(GovukForm):
    reference = forms.CharField(label="Case reference", required=False, max_length=20)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *CaseStatus.choices]
    )
    urgency = forms.ChoiceField(
        label="Urgency", required=False, choices=[("", "Any urgency"), *Urgency.choices]
    )
    organisation = forms.CharField(label="Referred by", required=False, max_length=200)
    older_than_days = forms.IntegerField(
        label="Received more than (days) ago", required=False, min_value=0, max_value=36500
    )
    sort = sort_choice(
        [
            ("-created", "Newest first"),
            ("created", "Oldest first"),
            ("-received", "Most recently received"),
            ("received", "Longest waiting"),
            ("reference", "Reference"),
            ("status", "Status"),
            ("urgency", "Urgency"),
        ]
    )


class PersonSearchForm(GovukForm):
    """Search by a person's exact name or date of birth: sent by POST only, so that personal
    data never appears in a URL, a browser history or the server's request log."""

    name = ExactNameField("Exact name")
    dob = forms.CharField(label="Exact date of birth", required=False, max_length=40)

    def clean_dob(self) -> str:
        from haven.vault.blind_index import normalise_date

        value = self.cleaned_data["dob"].strip()
        if value:
            try:
                normalise_date(value)
            except ValueError as error:
                raise forms.ValidationError("Enter a real date, for example 27/3/1980") from error
        return value


class BreakGlassForm(GovukForm):
    reference = forms.CharField(label="Case reference", max_length=20)
    reason = forms.CharField(
        label="Reason for emergency access",
        widget=forms.Textarea,
        max_length=2000,
        help_text="The case manager is told, and the access stands out in the audit ledger",
    )


class ColleagueChoiceField(forms.ModelChoiceField):
    """A colleague, shown with their roles and clearance so the manager sees who they pick."""

    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        roles = ", ".join(Role(code).label.lower() for code in obj.roles)
        return f"{obj} ({roles}; cleared {obj.clearance_label})"


def colleague_field() -> ColleagueChoiceField:
    return ColleagueChoiceField(
        label="Colleague",
        queryset=User.objects.none(),
        empty_label="Choose a colleague",
        help_text="Only active protection staff cleared to this case's classification",
        error_messages={"invalid_choice": "Choose a colleague from the list"},
    )


class CasePickerForm(GovukForm):
    """Offers exactly the colleagues the service accepts (permissions.eligible_colleagues)."""

    def __init__(self, *args: object, case: Case, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        eligible = [user.pk for user in permissions.eligible_colleagues(case)]
        self.fields["user"].queryset = User.objects.filter(pk__in=eligible).order_by(  # type: ignore[attr-defined]
            "last_name", "username"
        )


class GrantForm(CasePickerForm):
    user = colleague_field()
    reason = forms.CharField(label="Reason", widget=forms.Textarea, max_length=2000)
    days = forms.IntegerField(label="Days", min_value=1, max_value=30, initial=7)


class TeamMemberForm(CasePickerForm):
    user = colleague_field()
    team_role = forms.ChoiceField(
        label="Place on the team",
        choices=[(place.value, place.label) for place in permissions.CASE_PLACES],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a place on the team"},
    )


class RemovalReasonForm(GovukForm):
    reason = reason_field(
        "Why?",
        "Say why",
        help_text="Recorded in the audit ledger and sent to the person",
    )


class ReferralForm(GovukForm):
    subject_name = forms.CharField(label="Subject's full name", max_length=200)
    subject_dob = date_field("Subject's date of birth", required=False)
    referring_organisation = forms.CharField(
        label="Referring organisation", max_length=200, help_text="Police force or partner agency"
    )
    referring_officer = forms.CharField(label="Referring officer", max_length=200)
    threat_summary = text_area("Summary of the threat")
    # Radios with none chosen: the referrer's urgency is a decision, never a default.
    urgency = forms.ChoiceField(label="Urgency", choices=Urgency.choices, widget=forms.RadioSelect)
    received_at = forms.DateTimeField(
        label="Received",
        widget=DateTimeInput(),
        help_text="Date and time the referral arrived",
        error_messages={"invalid": "Enter the date and time the referral was received"},
    )
    classification = forms.TypedChoiceField(
        label="Classification",
        choices=Clearance.choices,
        coerce=int,
        initial=Clearance.SECRET,
        widget=forms.RadioSelect,
    )
    manager = forms.ModelChoiceField(
        label="Case manager", queryset=User.objects.none(), required=False
    )
    authoriser = forms.ModelChoiceField(
        label="Authorising officer", queryset=User.objects.none(), required=False
    )
    confirm_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["manager"].queryset = users_with(Role.PROTECTION_MANAGER)  # type: ignore[attr-defined]
        self.fields["authoriser"].queryset = users_with(Role.AUTHORISING_OFFICER)  # type: ignore[attr-defined]


class CaseEditForm(VersionedForm):
    subject_name = forms.CharField(label="Subject's full name", max_length=200)
    subject_dob = date_field("Date of birth", required=False)
    address = text_area("Address", required=False)
    threat_summary = text_area("Summary of the threat", required=False)
    urgency = forms.ChoiceField(label="Urgency", choices=Urgency.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label="Reason for the change", max_length=2000)


class DecisionForm(VersionedForm):
    to_status = forms.ChoiceField(label="New status", choices=CaseStatus.choices)
    decided_on = date_field("Date of the decision")
    reason = text_area("Reason and rationale")
    factor_risk = text_area(ACCEPTANCE_FACTORS[0][1], required=False)
    factor_cost = text_area(ACCEPTANCE_FACTORS[1][1], required=False)
    factor_adjustment = text_area(ACCEPTANCE_FACTORS[2][1], required=False)
    factor_proceedings = text_area(ACCEPTANCE_FACTORS[3][1], required=False)
    receiving_provider = forms.CharField(
        label="Receiving provider (s.84)", max_length=200, required=False
    )
    effective_date = date_field("Transfer effective from", required=False)
    cost_terms = text_area("Cost reimbursement terms", required=False)
    receiving_recorded_by = forms.CharField(
        label="Recorded for the receiving provider by", max_length=200, required=False
    )
    receiving_recorded_on = date_field("Receiving provider recorded it on", required=False)

    FACTORS = tuple(name for name, _ in ACCEPTANCE_FACTORS)
    TRANSFER = (
        "receiving_provider",
        "effective_date",
        "cost_terms",
        "receiving_recorded_by",
        "receiving_recorded_on",
    )


class JointProviderForm(GovukForm):
    provider = forms.CharField(label="Joint provider (s.83)", max_length=200)
    agreed_on = date_field("Agreed on")
    exercises_arrangements = yes_no_choice(
        "Does this provider exercise the arrangements?",
        [("no", "No, with our agreement only"), ("yes", "Yes")],
    )


class PersonForm(GovukForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    full_name = forms.CharField(label="Full name", max_length=200)
    relationship = forms.ChoiceField(
        label="Relationship to the principal", choices=[], widget=forms.RadioSelect
    )
    dob = date_field("Date of birth", required=False)
    phone = forms.CharField(label="Phone number", max_length=40, required=False)
    notes = text_area("Notes", required=False)

    def __init__(self, *args: object, principal: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choices = [c for c in Relationship.choices if (c[0] == "self") == principal]
        self.fields["relationship"].choices = choices  # type: ignore[attr-defined]


class _PersonChoiceForm(GovukForm):
    """A form with an optional `person` choice among the case's `people`; blank reads `nobody`."""

    nobody = ""

    def __init__(self, *args: object, people: list = (), **kwargs: object) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["person"].choices = [("", self.nobody)] + [  # type: ignore[attr-defined]
            (str(p.pk), p.full_name) for p in people
        ]


class LocationForm(_PersonChoiceForm):
    nobody = "Whole household"

    kind = forms.ChoiceField(
        label="Kind of location", choices=LocationKind.choices, widget=forms.RadioSelect
    )
    address = text_area("Address")
    latitude = forms.FloatField(label="Latitude", required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(label="Longitude", required=False, min_value=-180, max_value=180)
    valid_from = date_field("Used from")
    valid_to = date_field("Used until", required=False)
    person = forms.ChoiceField(label="Person", required=False, choices=[])


class ContactForm(_PersonChoiceForm):
    nobody = "Family or household"

    occurred_at = forms.DateTimeField(
        label="When",
        widget=DateTimeInput(),
        error_messages={"invalid": "Enter the date and time of the contact"},
    )
    person = forms.ChoiceField(label="Who", required=False, choices=[])
    # Five choices: radios, none chosen (issue 20: radios where they fit, no default).
    method = forms.ChoiceField(label="How", choices=ContactMethod.choices, widget=forms.RadioSelect)
    summary = text_area("Summary")
    concerns = forms.MultipleChoiceField(
        label="Concerns",
        required=False,
        choices=Concern.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    follow_up = text_area("Follow-up", required=False)
    follow_up_due = date_field("Follow-up due", required=False)

    def __init__(self, *args: object, partners: list | None = None, **kwargs: object) -> None:  # type: ignore[type-arg]
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if partners is not None:  # logging a contact: the party may be a directory entry
            self.fields["partner"] = forms.ChoiceField(
                label="Partner or stakeholder (optional)",
                help_text="From the partner directory, if the contact was with one",
                required=False,
                choices=[("", "None")] + [(str(p.pk), str(p)) for p in partners],
            )


def correction_reason() -> forms.CharField:
    return forms.CharField(
        label="Why are you correcting this record?",
        widget=forms.Textarea,
        max_length=2000,
        help_text="Kept with the record's history and in the audit ledger",
        error_messages={"required": "Say why the record is being changed"},
    )


class LocationCorrectionForm(VersionedForm, LocationForm):
    reason = correction_reason()


class ContactCorrectionForm(VersionedForm, ContactForm):
    reason = correction_reason()


class WithdrawContactForm(VersionedForm):
    reason = reason_field(
        "Why is this entry being withdrawn?",
        "Say why the entry is being withdrawn",
        help_text="For example: logged on the wrong case. Kept with the entry's history and in "
        "the audit ledger",
    )


class EndLocationForm(VersionedForm):
    ended_on = date_field("Last day the location was used")
    reason = reason_field(
        "Why is this location no longer used?",
        "Say why the location is no longer used",
        help_text="Kept with the record's history and in the audit ledger",
    )


class TaskForm(GovukForm):
    # Two choices: radios, none chosen (issue 20).
    kind = forms.ChoiceField(
        label="Kind",
        choices=[(TaskKind.TASK, "Task"), (TaskKind.REVIEW, "Review")],
        widget=forms.RadioSelect,
    )
    title = forms.CharField(label="What needs doing", max_length=300)
    details = text_area("Details", required=False)
    owner = forms.ChoiceField(label="Owner", choices=[])
    due_on = date_field("Due on")

    def __init__(self, *args: object, team: list = (), **kwargs: object) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["owner"].choices = [(str(u.pk), str(u)) for u in team]  # type: ignore[attr-defined]


class EscalationForm(GovukForm):
    question = text_area("Query for the case manager")


class CompleteTaskForm(VersionedForm):
    response = text_area("Response or outcome", required=False)


class DocumentForm(GovukForm):
    title = forms.CharField(label="Title", max_length=300)
    file = forms.FileField(
        label="File",
        help_text=documents.ALLOWED_HINT,
    )


class IdentityForm(GovukForm):
    legacy_name = forms.CharField(label="Legacy name", max_length=200)
    legacy_dob = date_field("Legacy date of birth", required=False)
    new_name = forms.CharField(label="New name", max_length=200)
    new_dob = date_field("New date of birth", required=False)


# --------------------------------------------------------------------------- partner directory


class PartnerForm(GovukForm):
    organisation = forms.CharField(label="Organisation", max_length=200)
    contact_name = forms.CharField(label="Contact name", max_length=200)
    role = forms.CharField(label="Their role (optional)", max_length=200, required=False)
    contact_details = text_area(
        "Contact details", help_text="Telephone, email or address: stored encrypted"
    )
    may_be_told = forms.ChoiceField(
        label="What they may be told",
        choices=MayBeTold.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what this partner may be told"},
    )
    may_be_told_notes = text_area(
        "Conditions or limits (optional)",
        required=False,
        help_text="For example: only through the named contact; never the location",
    )


class PartnerEditForm(VersionedForm, PartnerForm):
    reason = reason_field(
        "Why are you changing this entry?",
        "Say why you are changing this entry",
    )


class PartnerRetireForm(VersionedForm):
    reason = reason_field(
        "Why is this entry being retired?",
        "Say why you are retiring this entry",
        help_text="Kept in the audit ledger. Contacts already logged keep this partner.",
    )


# --------------------------------------------------------------------------- checklists

TASK_OR_REVIEW = [(TaskKind.TASK, "Task"), (TaskKind.REVIEW, "Review")]
BLANK_ITEM_ROWS = 5  # empty rows offered after the items a checklist already has


class ChecklistForm(GovukForm):
    """A checklist's name and its items, one row each (title, due in days, kind), in order.
    A row left without a title is not an item; more rows come after saving."""

    name = forms.CharField(
        label="Checklist name",
        max_length=200,
        error_messages={"required": "Enter the checklist's name"},
    )

    def __init__(self, *args: object, rows: int = BLANK_ITEM_ROWS, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.row_count = rows
        for n in range(1, rows + 1):
            self.fields[f"item_{n}"] = forms.CharField(
                label=f"Item {n}", max_length=300, required=False
            )
            self.fields[f"item_{n}_days"] = forms.IntegerField(
                label=f"Item {n}: due how many days after the checklist is applied (optional)",
                min_value=0,
                max_value=3650,
                required=False,
                error_messages={"invalid": f"Item {n}: enter a whole number of days"},
            )
            self.fields[f"item_{n}_kind"] = forms.ChoiceField(
                label=f"Item {n}: kind",
                choices=TASK_OR_REVIEW,
                initial=TaskKind.TASK,  # a blank row's default; the title is what matters
                widget=forms.RadioSelect,
            )

    def item_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"item_{n}"], self[f"item_{n}_days"], self[f"item_{n}_kind"])
            for n in range(1, self.row_count + 1)
        ]

    def items(self) -> list[dict[str, object]]:
        """Every row, blank ones too, so the service's item numbers match the rows."""
        data = self.cleaned_data
        return [
            {
                "title": data.get(f"item_{n}", ""),
                "due_in_days": data.get(f"item_{n}_days"),
                "kind": data.get(f"item_{n}_kind") or TaskKind.TASK,
            }
            for n in range(1, self.row_count + 1)
        ]

    @staticmethod
    def initial_for(name: str, items: list) -> dict[str, object]:  # type: ignore[type-arg]
        initial: dict[str, object] = {"name": name}
        for n, item in enumerate(items, start=1):
            initial |= {
                f"item_{n}": item.title,
                f"item_{n}_days": item.due_in_days,
                f"item_{n}_kind": item.kind,
            }
        return initial


class ChecklistEditForm(VersionedForm, ChecklistForm):
    reason = reason_field(
        "Why are you changing this checklist?", "Say why you are changing this checklist"
    )


class ChecklistRetireForm(VersionedForm):
    reason = reason_field(
        "Why is this checklist being retired?",
        "Say why you are retiring this checklist",
        help_text="Kept in the audit ledger. Tasks already set from it keep their origin.",
    )


class ApplyChecklistForm(GovukForm):
    checklist = forms.ChoiceField(
        label="Which checklist?",
        choices=[],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a checklist"},
    )
    owner = forms.ChoiceField(label="Who owns the tasks?", choices=[])
    start_on = date_field(
        "Count due dates from",
        required=False,
        help_text="Leave blank to count from today",
    )
    confirm_repeat = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: object,
        checklists: Sequence[Any] = (),
        team: Sequence[Any] = (),
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["checklist"].choices = [(str(c.pk), c.name) for c in checklists]  # type: ignore[attr-defined]
        self.fields["owner"].choices = [(str(u.pk), str(u)) for u in team]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- linked cases


class CaseLinkForm(GovukForm):
    linked_case = ReferenceField("case", "HVN-2026-00052", label="The other case's reference")
    reason = forms.CharField(
        label="How are the cases linked?",
        widget=forms.Textarea,
        max_length=2000,
        help_text="For example: her brother, protected in his own case. Stored encrypted.",
        error_messages={"required": "Say how the cases are linked"},
    )

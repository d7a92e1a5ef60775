"""Administration forms. Business rules (own account, vetting against clearance, reasons) are
the services'; these forms check shape only, and show service refusals on their fields."""

from __future__ import annotations

from typing import Any

from django import forms

from haven.accounts.models import QualificationKind, User
from haven.accounts.roles import Clearance, Role, VettingLevel
from haven.ui.forms import DateInput, GovukForm

REASON_HELP = "Kept, sealed, in the ledger with the change"


def reason_field(label: str = "Reason") -> forms.CharField:
    return forms.CharField(
        label=label, max_length=500, widget=forms.Textarea, help_text=REASON_HELP
    )


def roles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="Roles",
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one role"},
    )


def clearance_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label="Clearance",
        choices=Clearance.choices,
        coerce=int,
        help_text="Above OFFICIAL needs current vetting that supports it",
    )


def vetting_level_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Vetting level",
        choices=[("", "None recorded"), *VettingLevel.choices],
        required=False,
    )


def line_manager_field(exclude: User | None = None) -> forms.TypedChoiceField:
    people = User.objects.filter(is_active=True).order_by("username")
    if exclude is not None:
        people = people.exclude(pk=exclude.pk)
    return forms.TypedChoiceField(
        label="Line manager",
        choices=[("", "None"), *((user.pk, f"{user} ({user.username})") for user in people)],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Told with the person when their vetting, designations or training lapse",
    )


class NewAccountForm(GovukForm):
    username = forms.RegexField(
        label="User name",
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Use letters, digits and . @ + - _ only"},
    )
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    email = forms.EmailField(label="Email address", required=False)
    roles = roles_field()
    clearance = clearance_field()
    vetting_level = vetting_level_field()
    vetting_expires = forms.DateField(label="Vetting expires", required=False, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["line_manager"] = line_manager_field()


class AccessForm(GovukForm):
    roles = roles_field()
    clearance = clearance_field()
    reason = reason_field()


class VettingForm(GovukForm):
    vetting_level = vetting_level_field()
    vetting_expires = forms.DateField(label="Vetting expires", required=False, widget=DateInput())

    def __init__(self, *args: Any, account: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["line_manager"] = line_manager_field(exclude=account)


class QualificationForm(GovukForm):
    kind = forms.ChoiceField(label="Kind", choices=QualificationKind.choices)
    title = forms.CharField(
        label="Title",
        max_length=120,
        help_text="For example: NCA designation (powers of a constable), Information "
        "management (mandatory)",
    )
    held_from = forms.DateField(label="Held from", widget=DateInput())
    expires_on = forms.DateField(
        label="Expires", required=False, widget=DateInput(), help_text="Leave empty if it does not"
    )


class ReasonForm(GovukForm):
    reason = reason_field()


class ReviewForm(GovukForm):
    digest = forms.CharField(widget=forms.HiddenInput, max_length=64)

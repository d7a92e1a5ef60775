from __future__ import annotations

from django import forms

from haven.access.models import TeamRole
from haven.access.purposes import Purpose
from haven.accounts.models import User

from .models import CaseStatus


class PurposeForm(forms.Form):
    purpose = forms.ChoiceField(
        label="Why are you looking at protected information?",
        choices=Purpose.choices,
        help_text="Every record you open is logged with this reason",
    )


class CaseSearchForm(forms.Form):
    reference = forms.CharField(label="Case reference", required=False, max_length=20)
    name = forms.CharField(label="Exact name", required=False, max_length=200)
    dob = forms.CharField(label="Exact date of birth", required=False, max_length=40)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *CaseStatus.choices]
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("-created", "Newest first"),
            ("created", "Oldest first"),
            ("reference", "Reference"),
            ("status", "Status"),
        ],
    )

    def clean_dob(self) -> str:
        from haven.vault.blind_index import normalise_date

        value = self.cleaned_data["dob"].strip()
        if value:
            try:
                normalise_date(value)
            except ValueError as error:
                raise forms.ValidationError("Enter a real date, for example 27/3/1980") from error
        return value


class BreakGlassForm(forms.Form):
    reference = forms.CharField(label="Case reference", max_length=20)
    reason = forms.CharField(
        label="Reason for emergency access",
        widget=forms.Textarea,
        max_length=2000,
        help_text="The case manager is told, and the access stands out in the audit ledger",
    )


class GrantForm(forms.Form):
    user = forms.ModelChoiceField(label="Colleague", queryset=User.objects.none())
    reason = forms.CharField(label="Reason", widget=forms.Textarea, max_length=2000)
    days = forms.IntegerField(label="Days", min_value=1, max_value=30, initial=7)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["user"].queryset = User.objects.filter(is_active=True)  # type: ignore[attr-defined]


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(label="Colleague", queryset=User.objects.none())
    team_role = forms.ChoiceField(label="Team role", choices=TeamRole.choices)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["user"].queryset = User.objects.filter(is_active=True)  # type: ignore[attr-defined]

"""Escalation-policy forms (technical supervisors)."""

from __future__ import annotations

from typing import Any

from django import forms

from haven.accounts.roles import Module
from haven.ui.forms import GovukForm, people_choices

from .models import CaseTeamRole, PolicySource, TargetKind


class PolicyForm(GovukForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=300, required=False)
    repeat = forms.IntegerField(
        min_value=0,
        max_value=10,
        initial=0,
        label="Repeat",
        help_text="How many more times to page the steps from step 1 if nobody acknowledges",
    )
    is_default = forms.BooleanField(
        required=False,
        label="Default policy",
        help_text="Used for every alert whose device, deployment or case has no policy",
    )


class StepForm(GovukForm):
    delay_minutes = forms.IntegerField(
        min_value=0,
        max_value=1440,
        initial=5,
        label="Minutes to acknowledge",
        help_text="How long this step's people have before the next step is paged",
    )
    rota_name = forms.ChoiceField(required=False, label="Whoever is on call on")
    user = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Person")
    team_roles = forms.MultipleChoiceField(
        required=False,
        choices=CaseTeamRole.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Roles on the protected person's case team",
    )
    supervisors = forms.BooleanField(required=False, label="Every technical supervisor")

    def __init__(self, *args: Any, rota_names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rota_name"].choices = [("", "Nobody")] + [(n, n) for n in rota_names]  # type: ignore[attr-defined]
        self.fields["user"].choices = [("", "Nobody")] + people_choices(Module.OPERATIONS)  # type: ignore[attr-defined]

    def targets(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        found: list[dict[str, Any]] = []
        if data.get("rota_name"):
            found.append({"kind": TargetKind.ON_CALL, "rota_name": data["rota_name"]})
        if data.get("user"):
            found.append({"kind": TargetKind.USER, "user_id": data["user"]})
        found += [{"kind": TargetKind.CASE_TEAM, "team_role": r} for r in data["team_roles"]]
        if data.get("supervisors"):
            found.append({"kind": TargetKind.SUPERVISORS})
        return found


class AssignForm(GovukForm):
    source = forms.ChoiceField(label="Use this policy for")

    def __init__(self, *args: Any, sources: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "Choose…")] + sources  # type: ignore[attr-defined]

    def chosen(self) -> tuple[str, str]:
        kind, _, source_id = self.cleaned_data["source"].partition(":")
        return PolicySource(kind), source_id

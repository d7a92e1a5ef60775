from __future__ import annotations

from typing import Any

from django import forms

from haven.ui.forms import DateTimeLocal, GovukForm, optional_notes

from .config import duration_for
from .models import AuthorisationKind


def _when(label: str, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=DateTimeLocal(), required=required, help_text=help_text
    )


class AuthorisationForm(GovukForm):
    reference = forms.CharField(
        max_length=60, help_text="As written on the authorisation or warrant"
    )
    kind = forms.ChoiceField(label="Kind", choices=[("", "Select"), *AuthorisationKind.choices])
    authorising_officer = forms.CharField(
        label="Authorising officer", max_length=200, help_text="Name, rank and number"
    )
    granted_at = _when("Granted")
    expires_at = _when(
        "Expires",
        help_text="The expiry the authorising officer set (Haven does not assume a statutory "
        "duration)",
    )
    next_review_at = _when("Next review", required=False)
    summary = optional_notes("What it authorises", 2000, "Encrypted")

    def durations(self) -> list[tuple[str, str, bool]]:
        return [
            (label, duration_for(kind).source, duration_for(kind).confirmed)
            for kind, label in AuthorisationKind.choices
        ]


class ReviewForm(GovukForm):
    reviewed_at = _when("Reviewed")
    next_review_at = _when("Next review", required=False)
    note = optional_notes("Review outcome", 2000, "Encrypted")


class RenewForm(GovukForm):
    renewed_at = _when("Renewed")
    expires_at = _when("New expiry")
    note = optional_notes("Renewal note", 2000, "Encrypted")
    version = forms.IntegerField(widget=forms.HiddenInput)


class CancelForm(GovukForm):
    cancelled_at = _when("Cancelled")
    reason = forms.CharField(label="Reason", widget=forms.Textarea, max_length=2000)
    version = forms.IntegerField(widget=forms.HiddenInput)


class LinkForm(GovukForm):
    deployment = forms.CharField(
        label="Deployment reference", required=False, max_length=20, help_text="DEP-2026-0001"
    )
    device = forms.CharField(
        label="Tracker id",
        required=False,
        max_length=80,
        help_text="The identifier the tracker reports with (a Teltonika tracker's IMEI)",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("deployment")) == bool(data.get("device")):
            raise forms.ValidationError("Enter a deployment reference or a tracker id, not both")
        return data

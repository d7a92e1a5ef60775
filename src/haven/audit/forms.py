from __future__ import annotations

from typing import Any

from django import forms

from haven.ui.forms import GovukForm

from .models import Action


class LedgerSearchForm(GovukForm):
    username = forms.CharField(label="User name", required=False, max_length=150)
    object_id = forms.CharField(
        label="Reference or id",
        required=False,
        max_length=64,
        help_text="A case, deployment or complaint reference (HVN-2026-00052) or an object id",
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *Action.choices]
    )
    date_from = forms.DateField(label="From (YYYY-MM-DD)", required=False)
    date_to = forms.DateField(label="To (YYYY-MM-DD)", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date must be on or after the start date")
        return data

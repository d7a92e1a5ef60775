from __future__ import annotations

from django import forms

from haven.ui.forms import GovukForm

from .models import AlertCategory, Channel


class InboxFilterForm(GovukForm):
    show = forms.ChoiceField(
        choices=[("unread", "Unread"), ("all", "All")], required=False, label="Show"
    )
    category = forms.ChoiceField(
        choices=[("", "Any category"), *AlertCategory.choices], required=False, label="Category"
    )


class ContactForm(GovukForm):
    channel = forms.ChoiceField(choices=Channel.choices, label="How to be alerted")
    address = forms.CharField(
        max_length=300, label="Address", help_text="E-mail address, mobile number or webhook URL"
    )
    secret = forms.CharField(
        max_length=200,
        required=False,
        label="Shared secret (webhooks only)",
        widget=forms.PasswordInput,
    )


class CodeForm(GovukForm):
    code = forms.CharField(max_length=6, label="Verification code")

from __future__ import annotations

from django import forms

from haven.ui.forms import GovukForm


class SignInForm(GovukForm):
    username = forms.CharField(label="User name", max_length=150)
    password = forms.CharField(label="Password", widget=forms.PasswordInput, max_length=256)


class CodeForm(GovukForm):
    code = forms.RegexField(
        label="Security code",
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        help_text="The 6-digit code from your authenticator app",
        error_messages={"invalid": "Enter the 6-digit code from your authenticator app"},
    )


class ApiTokenForm(GovukForm):
    name = forms.CharField(
        label="Token name",
        max_length=80,
        help_text="Say what will use this token, for example 'reporting script'",
    )

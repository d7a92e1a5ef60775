from __future__ import annotations

from typing import Any

from django import forms

from haven.ui.forms import GovukForm

from .models import Module, User
from .services import TokenRequest


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
    modules = forms.MultipleChoiceField(
        label="Parts of Haven it may use",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one part of Haven"},
    )
    access = forms.MultipleChoiceField(
        label="Changes",
        widget=forms.CheckboxSelectMultiple,
        choices=[("write", "It may also change records (otherwise it can only read)")],
        required=False,
    )
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput,
        max_length=256,
        help_text="Creating a token needs your password and a new security code",
    )
    code = forms.RegexField(
        label="Security code",
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        help_text="The 6-digit code from your authenticator app",
        error_messages={"invalid": "Enter the 6-digit code from your authenticator app"},
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["modules"].choices = [  # type: ignore[attr-defined]
            (code, Module(code).label) for code in user.modules if code in Module.values
        ]

    def token_request(self) -> TokenRequest:
        data = self.cleaned_data
        return TokenRequest(
            name=data["name"],
            modules=data["modules"],
            can_write="write" in data["access"],
            password=data["password"],
            code=data["code"],
        )

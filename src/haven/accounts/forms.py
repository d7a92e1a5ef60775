from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy

from haven.ui.forms import GovukForm

from .models import Module, User
from .services import TokenRequest


def security_code_field() -> forms.RegexField:
    """The 6-digit code from an authenticator app: at sign-in and at every re-authentication."""
    return forms.RegexField(
        label="Security code",
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        help_text="The 6-digit code from your authenticator app",
        error_messages={"invalid": "Enter the 6-digit code from your authenticator app"},
    )


class SignInForm(GovukForm):
    username = forms.CharField(label="User name", max_length=150)
    password = forms.CharField(label="Password", widget=forms.PasswordInput, max_length=256)


class CodeForm(GovukForm):
    code = security_code_field()


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
    code = security_code_field()

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


class ReauthenticateForm(GovukForm):
    password = forms.CharField(label="Your password", widget=forms.PasswordInput, max_length=256)
    code = security_code_field()


class RecoveryCodeForm(GovukForm):
    code = forms.RegexField(
        label="Recovery code",
        # Six groups of four (earlier sets: three), with or without dashes and spaces.
        regex=r"^[\sA-Za-z0-9-]{12,40}$",
        max_length=40,
        help_text="One of the recovery codes you saved, for example ABCD-EFGH-JKMN-PQRS-TVWX-YZ23",
        error_messages={"invalid": "Enter a recovery code like ABCD-EFGH-JKMN-PQRS-TVWX-YZ23"},
    )


class PasskeyNameForm(GovukForm):
    name = forms.CharField(label="Name", max_length=64)


class NewPasswordForm(GovukForm):
    """A form that sets a password typed twice, as new_password and new_password_again: the
    second must match the first. Declares no fields, so each form keeps its own order."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        first, second = data.get("new_password"), data.get("new_password_again")
        if first and second and first != second:
            self.add_error("new_password_again", "The passwords do not match")
        return data


class PasswordChangeForm(NewPasswordForm):
    current_password = forms.CharField(
        label="Current password", widget=forms.PasswordInput, max_length=256
    )
    new_password = forms.CharField(
        label="New password",
        # The field include shows a strength meter under it (static/haven/strength.mjs).
        widget=forms.PasswordInput(
            attrs={"strength_meter": reverse_lazy("accounts:password_strength")}
        ),
        max_length=256,
        help_text="At least 12 characters and at most 128, hard to guess: several uncommon "
        "words work well",
    )
    new_password_again = forms.CharField(
        label="New password again", widget=forms.PasswordInput, max_length=256
    )
    code = security_code_field()


class PasswordResetForm(NewPasswordForm):
    username = forms.CharField(label="User name", max_length=150)
    code = forms.CharField(
        label="Reset code",
        max_length=30,
        help_text="The code sent to you after your administrator reset your password",
    )
    new_password = PasswordChangeForm.base_fields["new_password"]
    new_password_again = PasswordChangeForm.base_fields["new_password_again"]


class ReasonForm(GovukForm):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text="Recorded in the ledger, for example the service desk ticket and how you "
        "confirmed who asked",
    )

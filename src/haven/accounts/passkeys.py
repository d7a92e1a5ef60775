"""Passkeys and security keys: django-otp-webauthn's helper, model and browser script, with
Haven's own ceremony views (views_factors.py).

The library's own views assume a user already signed in to Django for both ceremonies. Haven
keeps a half-signed-in user (password given, second factor not yet) outside Django's auth in
the session (`PENDING_USER`), and wants a fresh password and code before a key is added, so
the views are Haven's; the cryptography (py_webauthn), the credential model, the challenge
state and the JavaScript are the library's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from webauthn.helpers.structs import ResidentKeyRequirement

from .models import User

REGISTER_STATE = "haven_passkey_register_state"
AUTHENTICATE_STATE = "haven_passkey_authenticate_state"


def relying_party_id(request: HttpRequest) -> str:
    """The host the request came to (Django has checked it against ALLOWED_HOSTS), unless
    HAVEN_WEBAUTHN_RP_ID pins one domain for every host name Haven answers on."""
    return settings.HAVEN_WEBAUTHN_RP_ID or request.get_host().rsplit(":", 1)[0]


class HavenWebAuthnHelper(WebAuthnHelper):  # type: ignore[misc]
    def get_allowed_origins(self) -> list[str]:
        """The origin of the page that started the ceremony: scheme and vetted host."""
        return [f"{self.request.scheme}://{self.request.get_host()}"]

    def get_discoverable_credentials_preference(self) -> ResidentKeyRequirement:
        # A second factor after the password: the server names the user's credentials, so
        # a security key need not spend one of its few resident slots on Haven.
        return ResidentKeyRequirement.DISCOURAGED


def helper(request: HttpRequest) -> HavenWebAuthnHelper:
    return HavenWebAuthnHelper(request=request)


def passkeys_of(user: User) -> Any:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at")


def has_passkey(user: User) -> bool:
    return bool(passkeys_of(user).exists())


def script_configuration(
    request: HttpRequest, *, register: bool, reauthenticate: bool = False
) -> dict[str, Any]:
    """What the library's script reads from the page (its `otp_webauthn_config`), pointing at
    Haven's ceremony views instead of the library's: registration, the second step of sign-in,
    or (reauthenticate) confirming it is you before a sensitive change."""
    from django.middleware import csrf

    begin, complete = (
        ("accounts:passkey_register_begin", "accounts:passkey_register_complete")
        if register
        else ("accounts:passkey_reauth_begin", "accounts:passkey_reauth_complete")
        if reauthenticate
        else ("accounts:passkey_verify_begin", "accounts:passkey_verify_complete")
    )
    urls = {
        "beginRegistrationUrl" if register else "beginAuthenticationUrl": reverse(begin),
        "completeRegistrationUrl" if register else "completeAuthenticationUrl": reverse(complete),
    }
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": csrf.get_token(request),
        **urls,
    }

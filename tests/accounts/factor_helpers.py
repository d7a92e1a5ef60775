"""Shared steps of the factor tests: re-authentication, the security events in the ledger, and
a software authenticator (soft-webauthn) speaking the browser side of WebAuthn."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.test import Client
from soft_webauthn import SoftWebauthnDevice

from haven.accounts.models import User
from haven.audit.models import Action, LedgerEntry
from tests.factories import PASSWORD, current_code

# Django's test client asks for http://testserver: the origin and relying party Haven derives.
ORIGIN = "http://testserver"


def events(name: str) -> list[LedgerEntry]:
    return [
        entry
        for entry in LedgerEntry.objects.filter(action=Action.SECURITY)
        if entry.details.get("event") == name
    ]


def reauthenticate(client: Client, user: User) -> None:
    response = client.post(
        "/accounts/security/", {"password": PASSWORD, "code": current_code(user)}
    )
    assert response.status_code == 302, response.content.decode()


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def post_json(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def register_passkey(client: Client, authenticator: SoftWebauthnDevice) -> Any:
    """The registration ceremony as the browser script runs it; returns the final answer."""
    options = post_json(client, "/accounts/security/passkeys/begin/").json()
    public_key = {
        **options,
        "challenge": unb64u(options["challenge"]),
        "user": {**options["user"], "id": unb64u(options["user"]["id"])},
    }
    created = authenticator.create({"publicKey": public_key}, ORIGIN)
    body = {
        "id": b64u(created["rawId"]),
        "rawId": b64u(created["rawId"]),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64u(created["response"]["clientDataJSON"]),
            "attestationObject": b64u(created["response"]["attestationObject"]),
        },
        "clientExtensionResults": {},
    }
    return post_json(client, "/accounts/security/passkeys/complete/", body)


def passkey_assertion(
    client: Client,
    authenticator: SoftWebauthnDevice,
    begin: str = "/accounts/verify/passkey/begin/",
) -> dict[str, Any]:
    """Begin the sign-in ceremony (or another at `begin`) and let the authenticator answer."""
    options = post_json(client, begin).json()
    asserted = authenticator.get(
        {"publicKey": {**options, "challenge": unb64u(options["challenge"])}}, ORIGIN
    )
    return {
        "id": b64u(asserted["rawId"]),
        "rawId": b64u(asserted["rawId"]),
        "type": "public-key",
        "response": {
            "authenticatorData": b64u(asserted["response"]["authenticatorData"]),
            "clientDataJSON": b64u(asserted["response"]["clientDataJSON"]),
            "signature": b64u(asserted["response"]["signature"]),
            "userHandle": b64u(asserted["response"]["userHandle"]),
        },
        "clientExtensionResults": {},
    }


def password_step(client: Client, user: User) -> None:
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/verify/"

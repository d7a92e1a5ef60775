"""Signing in for case tests: a web session with a declared purpose, and API token headers."""

from __future__ import annotations

from django.test import Client

from haven.accounts import services as account_services
from tests.factories import force_sign_in

PURPOSE = "case_management"


def web(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    force_sign_in(client, user)
    session = client.session
    session["haven_purpose"] = PURPOSE
    session.save()
    return client


def api_headers(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, secret = account_services.issue_api_token(user, "t", modules=user.modules, can_write=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_X_HAVEN_PURPOSE": PURPOSE}

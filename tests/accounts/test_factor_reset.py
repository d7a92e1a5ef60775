"""An administrator resets another account's factors (issue 18, item 3): reason required,
ledgered, the holder told, sessions ended and tokens revoked; never their own."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential
from soft_webauthn import SoftWebauthnDevice

from haven.accounts import services
from haven.accounts.models import ApiToken, AuthenticatorDevice, RecoveryCodeDevice
from haven.accounts.roles import Module, Role
from haven.notifications.models import Notification
from tests.factories import PASSWORD, UserFactory, force_sign_in, issue_token

from .factor_helpers import events, reauthenticate, register_passkey

pytestmark = pytest.mark.django_db


def with_every_factor():  # type: ignore[no-untyped-def]
    user = UserFactory()
    web = force_sign_in(Client(), user)
    reauthenticate(web, user)
    register_passkey(web, SoftWebauthnDevice())
    services.generate_recovery_codes(user)
    issue_token(user)
    return user, web


def test_an_administrator_resets_anothers_factors_from_the_account_page():
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    user, users_session = with_every_factor()
    web = force_sign_in(Client(), admin)
    page = web.get(f"/administration/users/{user.pk}/").content.decode()
    own_page = web.get(f"/administration/users/{admin.pk}/").content.decode()
    assert f"/administration/accounts/{user.pk}/reset-factors/" in page
    assert f"/administration/accounts/{admin.pk}/reset-factors/" not in own_page
    no_reason = web.post(f"/administration/accounts/{user.pk}/reset-factors/", {"reason": ""})
    assert "Enter reason" in no_reason.content.decode()
    assert AuthenticatorDevice.objects.filter(user=user).exists()

    done = web.post(f"/administration/accounts/{user.pk}/reset-factors/", {"reason": "lost"})
    assert done.status_code == 302
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    assert not ApiToken.objects.usable().filter(user=user).exists()
    assert users_session.get("/").status_code == 302
    [event] = events("factors_reset")
    assert event.actor_username == admin.username
    assert Notification.objects.filter(user=user, category="security").exists()
    # Next sign-in: password, then a new authenticator app.
    response = Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response["Location"] == "/accounts/enrol/"


def test_an_administrator_cannot_reset_their_own_factors():
    """Own-account refusals are one rule: a ValidationError (422 in the API), like every other
    change an administrator tries on their own account."""
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    with pytest.raises(ValidationError, match="your own account"):
        services.reset_factors(admin, by=admin, reason="mine")
    web = force_sign_in(Client(), admin)
    own = web.post(f"/administration/accounts/{admin.pk}/reset-factors/", {"reason": "mine"})
    assert 'data-testid="own-account"' in own.content.decode()
    assert AuthenticatorDevice.objects.filter(user=admin).exists()
    with pytest.raises(ValidationError):
        services.reset_factors(UserFactory(), by=admin, reason="  ")


def test_only_an_administrator_may_reset_factors():
    user = UserFactory()
    for role in (Role.PROTECTION_MANAGER, Role.AUDITOR):
        other = force_sign_in(Client(), UserFactory(roles=[role]))
        url = f"/administration/accounts/{user.pk}/reset-factors/"
        assert other.get(url).status_code == 404
        assert other.post(url, {"reason": "x"}).status_code == 404
    assert AuthenticatorDevice.objects.filter(user=user).exists()


def api(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_the_api_resets_factors_for_an_administrator_only():
    admin, manager = (
        UserFactory(roles=[Role.ADMINISTRATOR]),
        UserFactory(roles=[Role.PROTECTION_MANAGER]),
    )
    user, _ = with_every_factor()
    path = f"/api/accounts/{user.pk}/reset-factors"
    body = json.dumps({"reason": "lost phone"})
    refused = api(issue_token(manager)[1]).post(path, body, content_type="application/json")
    assert refused.status_code == 404
    admin_api = api(issue_token(admin, modules=[Module.ADMINISTRATION])[1])
    no_reason = admin_api.post(path, json.dumps({}), content_type="application/json")
    assert no_reason.status_code == 422
    own = admin_api.post(
        f"/api/accounts/{admin.pk}/reset-factors", body, content_type="application/json"
    )
    assert own.status_code == 422 and "your own account" in own.json()["title"]
    answer = admin_api.post(path, body, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json() == {
        "username": user.username,
        "totp": 1,
        "passkeys": 1,
        "recovery_codes": 1,
        "tokens": 1,
    }


def test_a_database_dump_holds_no_usable_recovery_code_or_reset_code(
    django_capture_on_commit_callbacks,
):
    from django.core import mail

    from haven.notifications.models import Channel, ContactMethod

    admin, user = UserFactory(roles=[Role.ADMINISTRATOR]), UserFactory()
    codes = services.generate_recovery_codes(user)
    ContactMethod(user=user, channel=Channel.EMAIL, address="p@example.test").save()
    ContactMethod.objects.update(verified_at="2026-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        services.issue_password_reset(user, by=admin, reason="ticket")
    reset_code = mail.outbox[0].body.split("reset code is ")[1].split(".")[0]
    dump = ""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            dump += repr(cursor.fetchall())
    for secret in [*codes, reset_code]:
        assert secret not in dump and secret.replace("-", "") not in dump
    # A stored digest is not a plain hash of a code either: it is keyed with SECRET_KEY.
    import hashlib

    plain = {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    assert not plain & {d for d in dump.split("'") if len(d) == 64}

"""Confirming it is you before a sensitive change: with a passkey instead of a code (issue 18
item 3), played by a software authenticator; and the API for one's own passkeys and password
behind the same re-authentication (item 4)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential
from soft_webauthn import SoftWebauthnDevice

from haven.accounts.models import User
from tests.factories import PASSWORD, UserFactory, current_code, force_sign_in, issue_token

from .factor_helpers import (
    events,
    passkey_assertion,
    post_json,
    reauthenticate,
    register_passkey,
)

pytestmark = pytest.mark.django_db

BEGIN = "/accounts/security/confirm/passkey/begin/"
COMPLETE = "/accounts/security/confirm/passkey/complete/"


def with_passkey(user: User) -> tuple[Client, SoftWebauthnDevice]:
    web = force_sign_in(Client(), user)
    authenticator = SoftWebauthnDevice()
    reauthenticate(web, user)
    assert register_passkey(web, authenticator).status_code == 200
    return force_sign_in(Client(), user), authenticator  # a new session: not re-authenticated


def fresh(web: Client) -> bool:
    return "accounts/security/recovery-codes/" in web.get("/accounts/security/").content.decode()


def test_a_passkey_confirms_it_is_you_after_the_password():
    user = UserFactory()
    web, authenticator = with_passkey(user)
    page = web.get("/accounts/security/").content.decode()
    assert 'data-testid="use-passkey"' in page and not fresh(web)
    answer = web.post("/accounts/security/", {"password": PASSWORD, "with": "passkey"})
    assert answer.status_code == 302
    page = web.get("/accounts/security/").content.decode()
    assert 'data-testid="confirm-with-passkey"' in page and "otp_webauthn_auth.js" in page
    assert "/accounts/security/confirm/passkey/begin/" in page
    done = post_json(web, COMPLETE, passkey_assertion(web, authenticator, BEGIN))
    assert done.status_code == 200 and done.json()["redirect_url"] == "/accounts/security/"
    assert fresh(web)
    # The first confirmation (with_passkey's, by code) and this one, by passkey.
    assert [e.details["factor"] for e in events("reauthenticated")] == ["totp", "passkey"]
    # Now a factor may change, as after a password and code.
    passkey = WebAuthnCredential.objects.get(user=user)
    web.post(f"/accounts/security/passkeys/{passkey.pk}/remove/")
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


def test_no_passkey_step_without_the_password_first():
    user = UserFactory()
    web, authenticator = with_passkey(user)
    assert post_json(web, BEGIN).status_code == 400
    wrong = web.post("/accounts/security/", {"password": "wrong", "with": "passkey"})
    assert "Your password is not correct" in wrong.content.decode()
    assert post_json(web, BEGIN).status_code == 400
    assert not fresh(web)
    user.refresh_from_db()
    assert user.failed_logins == 1
    assert [e.details["factor"] for e in events("reauthentication_failed")] == ["password"]


def test_a_forged_or_anothers_passkey_does_not_confirm_and_is_counted():
    user, other = UserFactory(), UserFactory()
    web, _ = with_passkey(user)
    _, others_key = with_passkey(other)
    web.post("/accounts/security/", {"password": PASSWORD, "with": "passkey"})
    refused = post_json(web, COMPLETE, passkey_assertion(web, others_key, BEGIN))
    assert refused.status_code == 400 and not fresh(web)
    # The password step was used up by the attempt: the passkey cannot be tried again alone.
    assert post_json(web, BEGIN).status_code == 400
    user.refresh_from_db()
    assert user.failed_logins == 1
    assert [e.details["factor"] for e in events("reauthentication_failed")] == ["passkey"]


def test_a_user_without_a_passkey_is_not_offered_one():
    user = UserFactory()
    web = force_sign_in(Client(), user)
    assert 'data-testid="use-passkey"' not in web.get("/accounts/security/").content.decode()
    web.post("/accounts/security/", {"password": PASSWORD, "with": "passkey"})
    assert post_json(web, BEGIN).status_code == 400


# ------------------------------------------------------------------ the API


@pytest.fixture
def next_step(time_machine):  # type: ignore[no-untyped-def]
    """TOTP takes one code per 30-second step: move the clock on before each new code."""
    time_machine.move_to(timezone.now(), tick=False)
    return lambda: time_machine.shift(dt.timedelta(seconds=31))


def api(user: User, *, can_write: bool = True) -> Client:
    _, secret = issue_token(user, can_write=can_write)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def patch(client: Client, path: str, body: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.patch(path, json.dumps(body), content_type="application/json")


def post(client: Client, path: str, body: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, json.dumps(body), content_type="application/json")


def test_the_api_lists_renames_and_removes_ones_own_passkeys_behind_reauthentication(next_step):
    user = UserFactory()
    with_passkey(user)
    passkey = WebAuthnCredential.objects.get(user=user)
    client = api(user)
    listed = client.get("/api/account/passkeys").json()
    assert [p["id"] for p in listed] == [passkey.pk] and listed[0]["name"] == passkey.name

    path = f"/api/account/passkeys/{passkey.pk}"
    wrong = patch(client, path, {"name": "Blue key", "password": PASSWORD, "code": "000000"})
    assert wrong.status_code == 422 and wrong["Content-Type"] == "application/problem+json"
    passkey.refresh_from_db()
    assert passkey.name != "Blue key"
    next_step()
    good = {"name": "Blue key", "password": PASSWORD, "code": current_code(user)}
    renamed = patch(client, path, good)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Blue key"
    assert len(events("factor_renamed")) == 1

    no_code = post(client, f"{path}/remove", {"password": PASSWORD})
    assert no_code.status_code == 422 and WebAuthnCredential.objects.filter(user=user).exists()
    next_step()
    removed = post(client, f"{path}/remove", {"password": PASSWORD, "code": current_code(user)})
    assert removed.status_code == 204 and not WebAuthnCredential.objects.filter(user=user).exists()
    assert len(events("factor_removed")) == 1
    assert len(events("reauthentication_failed")) == 1  # the wrong code, ledgered


def test_the_api_never_reaches_anothers_passkey_and_a_read_only_token_cannot_change(next_step):
    owner, intruder = UserFactory(), UserFactory()
    with_passkey(owner)
    passkey = WebAuthnCredential.objects.get(user=owner)
    client = api(intruder)
    assert client.get("/api/account/passkeys").json() == []
    next_step()
    body = {"password": PASSWORD, "code": current_code(intruder)}
    taken = post(client, f"/api/account/passkeys/{passkey.pk}/remove", body)
    assert taken.status_code == 404 and taken["Content-Type"] == "application/problem+json"
    renamed = patch(client, f"/api/account/passkeys/{passkey.pk}", {"name": "Mine", **body})
    assert renamed.status_code == 404
    reader = api(owner, can_write=False)
    next_step()
    body = {"password": PASSWORD, "code": current_code(owner)}
    assert post(reader, f"/api/account/passkeys/{passkey.pk}/remove", body).status_code == 403
    assert WebAuthnCredential.objects.filter(pk=passkey.pk, name=passkey.name).exists()
    assert Client().get("/api/account/passkeys").status_code == 401


def test_the_api_changes_ones_own_password_with_the_current_one_and_a_code(next_step):
    user = UserFactory()
    client = api(user)
    new = "a quite different passphrase 42"
    next_step()
    weak = post(
        client,
        "/api/account/password",
        {"current_password": PASSWORD, "new_password": "short", "code": current_code(user)},
    )
    assert weak.status_code == 422 and "new_password" in weak.json()["title"]
    next_step()
    wrong = post(
        client,
        "/api/account/password",
        {"current_password": "not it", "new_password": new, "code": current_code(user)},
    )
    assert wrong.status_code == 422
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and user.failed_logins == 1  # counted, not rolled back
    next_step()
    done = post(
        client,
        "/api/account/password",
        {"current_password": PASSWORD, "new_password": new, "code": current_code(user)},
    )
    assert done.status_code == 204
    user.refresh_from_db()
    assert user.check_password(new)
    assert len(events("password_changed")) == 1

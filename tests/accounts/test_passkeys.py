"""Passkeys and security keys through django-otp-webauthn (issue 18, item 3), the ceremony
played by a software authenticator against Haven's views."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential
from soft_webauthn import SoftWebauthnDevice

from tests.factories import UserFactory, force_sign_in

from .factor_helpers import (
    b64u,
    events,
    passkey_assertion,
    password_step,
    post_json,
    reauthenticate,
    register_passkey,
)

pytestmark = pytest.mark.django_db


def test_adding_a_passkey_needs_a_fresh_password_and_code():
    user = UserFactory()
    web = force_sign_in(Client(), user)
    refused = post_json(web, "/accounts/security/passkeys/begin/")
    assert refused.status_code == 400 and not WebAuthnCredential.objects.exists()
    reauthenticate(web, user)
    answer = register_passkey(web, SoftWebauthnDevice())
    assert answer.status_code == 200, answer.content
    passkey = WebAuthnCredential.objects.get(user=user)
    assert passkey.name.startswith("Passkey added")
    assert [e.details["factor"] for e in events("factor_enrolled")] == ["passkey"]
    page = web.get("/accounts/security/").content.decode()
    assert passkey.name in page and "otp_webauthn_register.js" in page
    assert 'data-testid="authenticator"' in page


def test_a_forged_registration_stores_nothing():
    user = UserFactory()
    web = force_sign_in(Client(), user)
    reauthenticate(web, user)
    post_json(web, "/accounts/security/passkeys/begin/")
    forged = {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}
    answer = post_json(web, "/accounts/security/passkeys/complete/", forged)
    assert answer.status_code == 400 and not WebAuthnCredential.objects.exists()


def test_a_passkey_is_a_second_factor_at_sign_in():
    user = UserFactory()
    authenticator = SoftWebauthnDevice()
    web = force_sign_in(Client(), user)
    reauthenticate(web, user)
    register_passkey(web, authenticator)

    browser = Client()
    assert browser.get("/").status_code == 302
    password_step(browser, user)
    assert "otp_webauthn_auth.js" in browser.get("/accounts/verify/").content.decode()
    answer = post_json(
        browser, "/accounts/verify/passkey/complete/", passkey_assertion(browser, authenticator)
    )
    assert answer.status_code == 200 and answer.json()["redirect_url"] == "/"
    assert browser.get("/").status_code == 200
    assert [e.details.get("factor") for e in events("sign_in")] == ["passkey"]


def test_a_passkey_without_the_password_step_or_with_a_bad_signature_is_refused():
    user = UserFactory()
    authenticator = SoftWebauthnDevice()
    web = force_sign_in(Client(), user)
    reauthenticate(web, user)
    register_passkey(web, authenticator)

    stranger = Client()
    assert post_json(stranger, "/accounts/verify/passkey/begin/").status_code == 403

    browser = Client()
    password_step(browser, user)
    assertion = passkey_assertion(browser, authenticator)
    assertion["response"]["signature"] = b64u(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    refused = post_json(browser, "/accounts/verify/passkey/complete/", assertion)
    assert refused.status_code == 400 and browser.get("/").status_code == 302
    # The challenge was used up by the refusal: a replay of a genuine answer fails too.
    genuine = passkey_assertion(browser, authenticator)
    assert post_json(browser, "/accounts/verify/passkey/complete/", genuine).status_code == 200
    replayed = post_json(browser, "/accounts/verify/passkey/complete/", genuine)
    assert replayed.status_code == 403
    assert len(events("sign_in_failed")) == 1


def test_anothers_passkey_does_not_open_an_account():
    owner, victim = UserFactory(), UserFactory()
    owners_key = SoftWebauthnDevice()
    web = force_sign_in(Client(), owner)
    reauthenticate(web, owner)
    register_passkey(web, owners_key)
    other = force_sign_in(Client(), victim)
    reauthenticate(other, victim)
    register_passkey(other, SoftWebauthnDevice())

    browser = Client()
    password_step(browser, victim)
    # The owner's key answers the victim's challenge with the owner's credential.
    answer = post_json(
        browser, "/accounts/verify/passkey/complete/", passkey_assertion(browser, owners_key)
    )
    assert answer.status_code == 400 and browser.get("/").status_code == 302


def test_renaming_and_removing_a_passkey():
    user, other = UserFactory(), UserFactory()
    web = force_sign_in(Client(), user)
    reauthenticate(web, user)
    register_passkey(web, SoftWebauthnDevice())
    passkey = WebAuthnCredential.objects.get(user=user)
    web.post(f"/accounts/security/passkeys/{passkey.pk}/name/", {"name": "Blue key"})
    passkey.refresh_from_db()
    assert passkey.name == "Blue key"

    intruder = force_sign_in(Client(), other)
    intruder.post(f"/accounts/security/passkeys/{passkey.pk}/name/", {"name": "Mine"})
    reauthenticate(intruder, other)
    intruder.post(f"/accounts/security/passkeys/{passkey.pk}/remove/")
    passkey.refresh_from_db()
    assert passkey.name == "Blue key"

    stale = force_sign_in(Client(), user)  # signed in, but not re-authenticated
    stale.post(f"/accounts/security/passkeys/{passkey.pk}/remove/")
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    web.post(f"/accounts/security/passkeys/{passkey.pk}/remove/")
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert len(events("factor_removed")) == 1 and len(events("factor_renamed")) == 1

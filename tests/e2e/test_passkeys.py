"""A passkey added and used in Chromium, with a virtual authenticator (CDP WebAuthn domain),
through django-otp-webauthn's script served by Haven's own static files."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory, current_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in_with_code(page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def test_add_a_passkey_then_sign_in_with_it(page):
    user = UserFactory(first_name="Ada")
    console_errors: list[str] = []
    page.on(
        "console", lambda message: message.type == "error" and console_errors.append(message.text)
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    sign_in_with_code(page, user)
    page.goto("/accounts/security/")
    page.get_by_label("Your password", exact=True).fill(PASSWORD)
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Confirm it is you").click()
    page.get_by_test_id("passkey-add").click()
    expect(page.get_by_test_id("passkeys")).to_contain_text("Passkey added")

    page.get_by_role("button", name="Sign out").first.click()
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_test_id("passkey-sign-in").click()
    page.wait_for_url("**/")
    expect(page.get_by_role("heading", name="Welcome, Ada")).to_be_visible()
    assert not [error for error in console_errors if "Content Security Policy" in error]

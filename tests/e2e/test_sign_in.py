from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.accounts.roles import Role
from tests.factories import PASSWORD, UserFactory, current_code

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
SCREENSHOTS.mkdir(exist_ok=True)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_with_password_and_totp_shows_the_shell(page):
    user = UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Ada")
    console_errors: list[str] = []
    page.on(
        "console", lambda message: message.type == "error" and console_errors.append(message.text)
    )
    page.goto("/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    expect(page.get_by_role("heading", name="Welcome, Ada")).to_be_visible()
    assert page.get_by_test_id("user-clearance").inner_text() == "SECRET"
    expect(page.get_by_role("navigation", name="Menu").get_by_role("link", name="Protection"))
    page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=True)
    assert "govuk-frontend-supported" in (page.locator("body").get_attribute("class") or "")
    assert not [error for error in console_errors if "Content Security Policy" in error]


def test_wrong_password_shows_the_error_summary(page):
    user = UserFactory()
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    assert "Enter a correct user name and password" in summary.inner_text()


def test_show_password_reveals_and_hides_what_was_typed(page):
    """ASVS 2.1.12: GOV.UK password input; without JS the button stays hidden (see
    tests/ui/test_password_input.py)."""
    page.goto("/accounts/login/")
    field = page.get_by_label("Password", exact=True)
    field.fill("what I typed")
    assert field.get_attribute("type") == "password"
    page.get_by_role("button", name="Show password").click()
    assert field.get_attribute("type") == "text"
    page.get_by_role("button", name="Hide password").click()
    assert field.get_attribute("type") == "password"

"""No lost work on expiry, in a browser: a referral typed while the session ran out comes back
filled in after signing in again, with the banner, and nothing was recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from haven.accounts.models import HashedSession, User
from haven.accounts.roles import Role
from haven.cases.models import Case
from tests.factories import PASSWORD, UserFactory, current_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BANNER = "You were signed out. We kept what you entered: check it and submit again."


def sign_in(page: Any, user: User) -> None:
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Sign in").click()


def test_a_referral_typed_when_the_session_ran_out_comes_back_after_sign_in(page):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    page.goto("/accounts/login/")
    sign_in(page, officer)
    page.wait_for_url("**/")
    page.goto("/cases/referrals/new/")
    page.get_by_label("Subject's full name").fill("Wilhelmina Keptform")
    page.get_by_label("Summary of the threat").fill("Threats from the defendant's associates")
    page.get_by_label("Urgent", exact=True).check()
    # The officer is away from the keyboard: the session's time runs out while the page is open.
    HashedSession.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/accounts/login/**")
    expect(page.get_by_test_id("kept-form-note")).to_be_visible()
    assert "Wilhelmina" not in page.url
    sign_in(page, officer)
    page.wait_for_url("**/cases/referrals/new/")
    expect(page.get_by_text(BANNER)).to_be_visible()
    expect(page.get_by_label("Subject's full name")).to_have_value("Wilhelmina Keptform")
    expect(page.get_by_label("Summary of the threat")).to_have_value(
        "Threats from the defendant's associates"
    )
    expect(page.get_by_label("Urgent", exact=True)).to_be_checked()
    assert not Case.objects.exists()

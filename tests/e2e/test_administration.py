"""Done when (issue 18 items 5 and 6): an administrator runs the account and vetting lifecycle
from the browser, starting at Home: create, vetting and training, roles and clearance,
deactivation with its list of cases that lose a member, and the access review."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.accounts.models import User
from haven.accounts.roles import Clearance, Role
from haven.audit.models import LedgerEntry
from tests.e2e.forms import fill_date
from tests.factories import PASSWORD, UserFactory, current_code, make_case

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
SCREENSHOTS.mkdir(exist_ok=True)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def test_an_administrator_runs_the_account_lifecycle_from_home(page):
    admin = UserFactory(roles=[Role.ADMINISTRATOR], clearance=Clearance.OFFICIAL)
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER], username="leaver")
    case = make_case(officer)
    sign_in(page, admin)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Administration").click()

    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("User name").fill("starter")
    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Fictional")
    page.get_by_label("Technical officer").check()
    page.get_by_label("Clearance").select_option(label="SECRET")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Record a vetting")
    page.get_by_label("Vetting level").select_option(label="Security Check (SC)")
    fill_date(page, "Vetting expires", "2030-01-31")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("first-password")).to_be_visible()
    page.get_by_role("link", name="Go to the account").click()
    expect(page.get_by_test_id("clearance")).to_have_text("SECRET")

    page.get_by_role("link", name="Add designation or training").click()
    page.get_by_label("Kind").select_option(label="Training")
    page.get_by_label("Title").fill("Information management (mandatory)")
    fill_date(page, "Held from", "2026-01-05")
    fill_date(page, "Expires", "2027-01-05")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("qualifications")).to_contain_text("Information management")

    page.get_by_role("link", name="Change roles and clearance").click()
    page.get_by_label("Clearance").select_option(label="TOP SECRET")
    page.get_by_label("Reason").fill("Moving to a DV post")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_clearance-error")).to_contain_text("up to SECRET")

    page.goto("/administration/")
    page.get_by_role("link", name="leaver").click()
    page.get_by_role("link", name="Deactivate account").click()
    expect(page.get_by_test_id("places")).to_contain_text(f"Case {case.reference}")
    page.get_by_label("Reason").fill("Left the unit")
    page.get_by_role("button", name="Deactivate account").click()
    expect(page.get_by_test_id("status")).to_have_text("Deactivated")

    page.goto("/")
    page.get_by_role("link", name="Access review to confirm").click()
    page.get_by_role("button", name="Confirm this review").click()
    expect(page.get_by_test_id("review-status")).to_contain_text("Last confirmed by")
    page.screenshot(path=str(SCREENSHOTS / "administration.png"), full_page=True)

    assert not User.objects.get(username="leaver").is_active
    events = set(
        LedgerEntry.objects.filter(actor_username=admin.username).values_list(
            "details__event", flat=True
        )
    )
    assert {
        "account_created",
        "vetting_recorded",
        "qualification_added",
        "account_deactivated",
        "access_review_confirmed",
    } <= events

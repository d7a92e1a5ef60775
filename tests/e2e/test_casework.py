"""Done when: a referral goes from intake to an active arrangement with people, locations,
contacts, tasks and documents, entirely in the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.accounts.roles import Role
from haven.cases.models import Case, Document
from tests.cases.access_rules import TINY_PNG
from tests.factories import PASSWORD, UserFactory, current_code

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
SCREENSHOTS.mkdir(exist_ok=True)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def open_case(page, case_id) -> None:
    page.goto(f"/cases/{case_id}/")
    if "/purpose/" in page.url:
        page.get_by_label("Day-to-day case management").check()
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"**/cases/{case_id}/")


def decide(page, button: str, reason: str, factors: bool = False) -> None:
    page.get_by_role("link", name=button).click()
    page.get_by_label("Reason and rationale").fill(reason)
    if factors:
        page.get_by_label("s.82(4)(a)", exact=False).fill("Credible threat to life")
        page.get_by_label("s.82(4)(b)", exact=False).fill("Within budget")
        page.get_by_label("s.82(4)(c)", exact=False).fill("Family willing to move")
        page.get_by_label("s.82(4)(d)", exact=False).fill("Key witness, murder trial")
    page.get_by_role("button", name="Record the decision").click()


def test_referral_to_active_arrangement_in_the_browser(page, browser, live_server, tmp_path):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Olive")
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER], first_name="Manon")
    authoriser = UserFactory(roles=[Role.AUTHORISING_OFFICER], first_name="Aurelio")

    sign_in(page, officer)
    page.goto("/cases/referrals/new/")
    page.get_by_role("button", name="Record the referral").click()  # empty: errors, nothing saved
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter")
    page.get_by_label("Subject's full name").fill("Wilhelmina Fictional")
    page.get_by_label("Subject's date of birth").fill("1988-04-09")
    page.get_by_label("Referring organisation").fill("Midshire Police")
    page.get_by_label("Referring officer").fill("DC Example")
    page.get_by_label("Summary of the threat").fill("Threats after giving evidence")
    page.get_by_label("Urgency").select_option("urgent")
    page.get_by_label("Case manager").select_option(str(manager.pk))
    page.get_by_label("Authorising officer").select_option(str(authoriser.pk))
    page.get_by_role("button", name="Record the referral").click()
    if "/purpose/" in page.url:
        page.get_by_label("Day-to-day case management").check()
        page.get_by_role("button", name="Continue").click()
    case = Case.objects.get()
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert page.get_by_test_id("case-status").inner_text() == "Referred"
    decide(page, "Make assessed", "Threat assessed as credible")
    assert page.get_by_test_id("case-status").inner_text() == "Assessed"

    authoriser_context = browser.new_context(base_url=live_server.url)
    other = authoriser_context.new_page()
    sign_in(other, authoriser)
    open_case(other, case.pk)
    decide(other, "Make accepted", "Meets the s.82 test", factors=True)
    assert other.get_by_test_id("case-status").inner_text() == "Accepted"
    decide(other, "Make active", "Arrangements in place")
    assert other.get_by_test_id("case-status").inner_text() == "Active"
    authoriser_context.close()

    open_case(page, case.pk)
    page.get_by_role("link", name="Add an associated person").click()
    page.get_by_label("Full name", exact=True).fill("Tobias Fictional")
    page.get_by_label("Relationship to the principal").select_option("child")
    page.get_by_label("Date of birth").fill("2014-06-01")
    page.get_by_role("button", name="Save").click()
    assert "Tobias Fictional" in page.get_by_test_id("people-table").inner_text()

    page.get_by_role("link", name="Record a location").click()
    page.get_by_label("Kind of location").select_option("safe_house")
    page.get_by_label("Address").fill("12 Nowhere Lane, Demo Town")
    page.get_by_label("Latitude").fill("52.48")
    page.get_by_label("Longitude").fill("-1.89")
    page.get_by_label("Used from").fill("2026-01-10")
    page.get_by_role("button", name="Save").click()
    assert "Safe house" in page.get_by_test_id("location-table").inner_text()

    page.get_by_role("link", name="Log a contact").click()
    page.get_by_label("How").select_option("in_person")
    page.get_by_label("Summary").fill("Home visit; some strain between the children")
    page.get_by_label("Strain").check()
    page.get_by_role("button", name="Log the contact").click()
    assert "some strain" in page.get_by_test_id("contact-table").inner_text()

    page.get_by_role("link", name="Set a task or review").click()
    page.get_by_label("What needs doing").fill("Arrange school transfer")
    page.get_by_label("Due on").fill("2026-12-01")
    page.get_by_role("button", name="Save").click()
    assert "Arrange school transfer" in page.get_by_test_id("case-task-table").inner_text()

    upload = tmp_path / "plan.png"
    upload.write_bytes(TINY_PNG)
    page.get_by_role("link", name="Upload a document").click()
    page.get_by_label("Title").fill("Protection plan")
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_role("button", name="Save").click()
    assert "Protection plan" in page.get_by_test_id("document-list").inner_text()
    assert Document.objects.filter(case=case).count() == 1

    timeline = page.get_by_test_id("timeline").inner_text()
    for expected in ("Referral received", "Accepted to Active", "Document uploaded"):
        assert expected in timeline
    page.screenshot(path=str(SCREENSHOTS / "casework.png"), full_page=True)

"""Done when: a referral goes from intake to an active arrangement with people, locations,
contacts, tasks and documents, entirely in the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.accounts.roles import Role
from haven.cases.models import Case, Document
from tests.cases.access_rules import TINY_PNG
from tests.e2e.forms import fill_date
from tests.factories import PASSWORD, UserFactory, current_code

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
SCREENSHOTS.mkdir(exist_ok=True)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def choose_purpose_if_asked(page) -> None:
    """Once per session (not a click of the journey: the review counts after it)."""
    if "/purpose/" in page.url:
        page.get_by_label("Day-to-day case management").check()
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()


class Clicks:
    """Counts the clicks of a journey, so the issue's click counts stay checked. Each click
    waits for the page it opens to load: Playwright's click returns once the navigation has
    begun, and a read straight after it could see a half-parsed page (a team picker read with
    none of its options failed CI once)."""

    def __init__(self, page) -> None:
        self.page, self.count = page, 0

    def link(self, name: str, **options) -> None:
        self.count += 1
        self.page.get_by_role("link", name=name, **options).click()
        self.page.wait_for_load_state()
        choose_purpose_if_asked(self.page)

    def tab(self, name: str) -> None:
        self.count += 1
        self.page.get_by_test_id("case-nav").get_by_role("link", name=name, exact=True).click()
        self.page.wait_for_load_state()

    def button(self, name: str) -> None:
        self.count += 1
        self.page.get_by_role("button", name=name).click()
        self.page.wait_for_load_state()
        choose_purpose_if_asked(self.page)


def decide(clicks: Clicks, reason: str, factors: bool = False, link: str = "") -> None:
    page = clicks.page
    if link:
        clicks.link(link)
    page.get_by_label("Reason and rationale").fill(reason)
    if factors:
        page.get_by_label("s.82(4)(a)", exact=False).fill("Credible threat to life")
        page.get_by_label("s.82(4)(b)", exact=False).fill("Within budget")
        page.get_by_label("s.82(4)(c)", exact=False).fill("Family willing to move")
        page.get_by_label("s.82(4)(d)", exact=False).fill("Key witness, murder trial")
    clicks.button("Continue")
    expect(page.get_by_test_id("check-answers")).to_contain_text(reason)  # check your answers
    clicks.button("Record the decision")


def test_referral_to_active_arrangement_in_the_browser(page, browser, live_server, tmp_path):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Olive")
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER], first_name="Manon")
    authoriser = UserFactory(roles=[Role.AUTHORISING_OFFICER], first_name="Aurelio")

    sign_in(page, officer)
    clicks = Clicks(page)
    clicks.link("Record a new referral")
    page.get_by_role("button", name="Continue").click()  # empty: errors, nothing saved
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter")
    page.get_by_label("Subject's full name").fill("Wilhelmina Fictional")
    fill_date(page, "Subject's date of birth", "1988-04-09")
    page.get_by_label("Referring organisation").fill("Midshire Police")
    page.get_by_label("Referring officer").fill("DC Example")
    page.get_by_label("Summary of the threat").fill("Threats after giving evidence")
    page.get_by_role("radio", name="Urgent", exact=True).check()
    page.get_by_label("Case manager").select_option(str(manager.pk))
    page.get_by_label("Authorising officer").select_option(str(authoriser.pk))
    clicks.button("Continue")
    answers = page.get_by_test_id("check-answers")
    expect(answers).to_contain_text("Wilhelmina Fictional")
    expect(answers).to_contain_text("9 April 1988")
    assert not Case.objects.exists()  # nothing recorded before the answers are checked
    clicks.button("Record the referral")
    case = Case.objects.get()
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert page.get_by_test_id("case-status").inner_text() == "Referred"
    expect(page.get_by_role("link", name="Accept the arrangement")).to_have_count(
        0
    )  # not the officer's
    decide(clicks, "Threat assessed as credible", link="Record the assessment")
    assert page.get_by_test_id("case-status").inner_text() == "Assessed"
    expect(page.get_by_role("link", name="Accept the arrangement")).to_have_count(0)
    officer_clicks = clicks.count

    authoriser_context = browser.new_context(base_url=live_server.url)
    other = authoriser_context.new_page()
    sign_in(other, authoriser)
    clicks = Clicks(other)
    clicks.link("Decisions awaiting you")
    decide(clicks, "Meets the s.82 test", factors=True, link="Decide whether to accept or decline")
    assert other.get_by_test_id("case-status").inner_text() == "Accepted"
    authoriser_clicks = clicks.count
    authoriser_context.close()

    manager_context = browser.new_context(base_url=live_server.url)
    boss = manager_context.new_page()
    sign_in(boss, manager)
    clicks = Clicks(boss)
    clicks.link("Decisions awaiting you")
    decide(clicks, "Arrangements in place", link="Record the protection arrangement as made")
    assert boss.get_by_test_id("case-status").inner_text() == "Active"
    manager_context.close()
    # Referral to an active arrangement: officer 6, authoriser 4, manager 4 clicks (4, 3, 3
    # before check your answers: one "Continue" more per referral and per decision).
    assert (officer_clicks, authoriser_clicks, clicks.count) == (6, 4, 4)

    clicks = Clicks(page)
    page.goto(f"/cases/{case.pk}/")
    clicks.tab("People")
    page.get_by_role("link", name="Add an associated person").click()
    page.get_by_label("Full name", exact=True).fill("Tobias Fictional")
    page.locator('input[name="relationship"][value="child"]').check()
    fill_date(page, "Date of birth", "2014-06-01")
    page.get_by_role("button", name="Save").click()
    assert "Tobias Fictional" in page.get_by_test_id("people-table").inner_text()

    page.get_by_role("link", name="Record a location").click()
    page.locator('input[name="kind"][value="safe_house"]').check()
    page.get_by_label("Address").fill("12 Nowhere Lane, Demo Town")
    page.get_by_label("Latitude").fill("52.48")
    page.get_by_label("Longitude").fill("-1.89")
    fill_date(page, "Used from", "2026-01-10")
    page.get_by_role("button", name="Save").click()
    assert "Safe house" in page.get_by_test_id("location-table").inner_text()

    clicks.tab("Contacts")
    page.get_by_role("link", name="Log a contact").click()
    page.get_by_role("radio", name="In person").check()
    page.get_by_label("Summary").fill("Home visit; some strain between the children")
    page.get_by_label("Strain").check()
    page.get_by_role("button", name="Log the contact").click()
    assert "some strain" in page.get_by_test_id("contact-table").inner_text()

    clicks.tab("Tasks")
    page.get_by_role("link", name="Set a task or review").click()
    page.get_by_role("group", name="Kind").get_by_label("Task", exact=True).check()
    page.get_by_label("What needs doing").fill("Arrange school transfer")
    fill_date(page, "Due on", "2026-12-01")
    page.get_by_role("button", name="Save").click()
    assert "Arrange school transfer" in page.get_by_test_id("case-task-table").inner_text()

    upload = tmp_path / "plan.png"
    upload.write_bytes(TINY_PNG)
    clicks.tab("Documents")
    page.get_by_role("link", name="Upload a document").click()
    page.get_by_label("Title").fill("Protection plan")
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_role("button", name="Save").click()
    assert "Protection plan" in page.get_by_test_id("document-list").inner_text()
    assert Document.objects.filter(case=case).count() == 1

    clicks.tab("Timeline")
    timeline = page.get_by_test_id("timeline").inner_text()
    for expected in ("Referral received", "Accepted to Active", "Document uploaded"):
        assert expected in timeline
    page.screenshot(path=str(SCREENSHOTS / "casework.png"), full_page=True)


def test_team_change_in_the_browser(page):
    from haven.access.models import TeamMembership
    from haven.accounts.roles import Clearance
    from haven.cases import services

    officer = UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Olive")
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER], first_name="Manon")
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Colin")
    official = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL)
    auditor = UserFactory(roles=[Role.AUDITOR], clearance=Clearance.TOP_SECRET)
    case = services.create_case(officer, subject_name="Wilhelmina Fictional", manager=manager)

    sign_in(page, manager)
    clicks = Clicks(page)
    clicks.link("Find a case")
    clicks.link(case.reference)
    clicks.tab("Team")
    expect(page.locator("#id_member-user option", has_text="Colin")).to_contain_text(
        "cleared SECRET"
    )
    offered = page.locator("#id_member-user option").all_inner_texts()
    assert any("Colin" in text and "cleared SECRET" in text for text in offered)
    assert not any(str(user) in text for user in (official, auditor) for text in offered)
    page.locator("#id_member-user").select_option(str(colleague.pk))
    page.locator('input[name="member-team_role"][value="officer"]').check()
    clicks.button("Add to team")
    assert "Colin" in page.get_by_test_id("team-table").inner_text()
    assert clicks.count == 4  # Find a case, the case, Team, Add to team

    clicks.link(f"Remove {colleague} as officer")
    page.get_by_label("Why?").fill("Moved to another region")
    clicks.button("Remove from team")
    assert "Colin" not in page.get_by_test_id("team-table").inner_text()
    assert not TeamMembership.objects.filter(user=colleague).exists()
    assert clicks.count == 6  # and two more to remove, with the reason on a confirmation page

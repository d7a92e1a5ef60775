"""Done when (issue 6): an oversight officer records a complaint, its outcome, a review
application (out of time, then in time by a recorded extension), determines the review,
appoints a panel under each model, and sees the dashboard with suppression working."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.accounts.roles import Role
from haven.oversight import imports, services
from haven.oversight.models import MemberKind
from tests.e2e.forms import fill_date
from tests.factories import PASSWORD, UserFactory, current_code

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
SCREENSHOTS.mkdir(exist_ok=True)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NINE = (
    "age_band,disability,gender_reassignment,marriage_civil_partnership,pregnancy_maternity,"
    "race,religion_belief,sex,sexual_orientation"
)


def seed_registers_and_workforce(user) -> None:  # type: ignore[no-untyped-def]
    for name, kind in [
        ("Alma Chairfictional", MemberKind.LEGAL),
        ("Basil Chairfictional", MemberKind.LEGAL),
        ("Cora Layfictional", MemberKind.INDEPENDENT),
        ("Dev Layfictional", MemberKind.INDEPENDENT),
        ("Eli Layfictional", MemberKind.INDEPENDENT),
    ]:
        # Since the 2024 amendment one independent member must have relevant qualifications.
        services.add_panel_member(
            user,
            name=name,
            kind=kind,
            term_start=date(2020, 1, 1),
            term_end=date(2099, 1, 1),
            relevant_qualifications=name == "Cora Layfictional",
        )
    lines = [f"staff_number,snapshot_on,force,grade,{NINE}"]
    grades = ["constable"] * 20 + ["sergeant"] * 2
    for number, grade in enumerate(grades):
        sex = "female" if number % 2 else "male"
        lines.append(
            f"E{number},2025-03-31,Fictional Constabulary,{grade},25_34,no,no,married,no,"
            f"white,none,{sex},heterosexual"
        )
    assert imports.run(user, "workforce", "\n".join(lines) + "\n").ok


def not_senior(page):
    """A referral's two questions on rank, answered (radios with neither chosen)."""
    for question in ("Is the officer a senior officer?", "Is the officer a chief officer"):
        page.get_by_role("group", name=question).get_by_label("No", exact=True).check()


def test_oversight_officer_end_to_end(page):
    user = UserFactory(roles=[Role.OVERSIGHT_OFFICER], first_name="Olive")
    seed_registers_and_workforce(user)
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")

    # Record a complaint.
    page.goto("/oversight/complaints/new/")
    fill_date(page, "Date received", "2025-01-06")
    page.get_by_label("Allegation category").select_option("individual_behaviours")
    page.get_by_label("Complainant's name").fill("Ivor Fictional-Complainant")
    page.get_by_label("What the complaint is about").fill("Rude at a fictional front counter.")
    page.get_by_role("button", name="Save complaint").click()
    assert page.get_by_test_id("complaint-status").inner_text() == "Recorded under Schedule 3"

    # Handled, then the outcome notice.
    fill_date(page, "Date handled", "2025-03-01")
    page.get_by_role("button", name="Mark as handled").click()
    page.get_by_role("button", name="Yes, mark as handled").click()  # final: confirmed first
    page.get_by_role("link", name="Record the outcome").click()
    page.locator('input[name="outcome"][value="service_acceptable"]').check()
    fill_date(page, "Date of the outcome notice", "2025-03-03")
    page.get_by_role("button", name="Save outcome").click()
    assert page.get_by_test_id("complaint-status").inner_text() == "Outcome notified"
    rule_link = page.get_by_role("link", name="PCMR 2020 reg 29(2)").first
    assert rule_link.get_attribute("href") == "/oversight/rules/#rule-complaint_review_application"

    # A review application received after the 28 days: out of time.
    page.get_by_role("link", name="Record a review application").click()
    fill_date(page, "Date the application was received", "2025-04-20")
    page.get_by_role("button", name="Save application").click()
    assert page.get_by_test_id("review-timeliness").inner_text() == "Out of time"
    assert page.get_by_role("link", name="Determine the review").count() == 0

    # Special circumstances: extended, so now in time.
    page.get_by_role("link", name="Extend the time limit").click()
    page.get_by_label("Extension in days").fill("21")
    page.get_by_label("Special circumstances").fill("Complainant in hospital (fictional)")
    page.get_by_role("button", name="Save extension").click()
    assert page.get_by_test_id("review-timeliness").inner_text() == "In time (extended)"

    # Determine: not reasonable and proportionate, with a recommendation.
    page.get_by_role("link", name="Determine the review").click()
    page.get_by_role("button", name="Save determination").click()
    assert (
        "Say whether the outcome was reasonable"
        in page.locator(".govuk-error-summary").inner_text()
    )
    fill_date(page, "Date determined", "2025-04-25")
    page.locator('input[name="reasonable_and_proportionate"][value="no"]').check()
    page.get_by_label("Recommendations").fill("Look again at the fictional allegation.")
    page.get_by_role("button", name="Save determination").click()
    assert (
        "not reasonable and proportionate"
        in page.get_by_test_id("review-determination").inner_text()
    )
    assert page.get_by_test_id("complaint-status").inner_text() == "Review determined"

    # Panel under the legally qualified chair model (referred before 7 May 2024), by rota.
    page.goto("/oversight/hearings/")
    page.get_by_label("Officer reference").fill("PC 0001 Fictional")
    page.get_by_label("Force", exact=True).fill("Fictional Constabulary")
    fill_date(page, "Referral date", "2024-03-01")
    not_senior(page)
    page.get_by_role("button", name="Save referral").click()
    assert "Legally qualified chair model" in page.get_by_test_id("panel-model").inner_text()
    page.get_by_label("Rota (next available)").check()
    page.get_by_label("Police member (superintendent or above): name").fill("Supt Fictional")
    page.get_by_role("button", name="Appoint panel").click()
    panel = page.get_by_test_id("panel-table").inner_text()
    assert "Alma Chairfictional" in panel and "Cora Layfictional" in panel
    assert "Supt Fictional" in panel and "Rota" in panel

    # Panel under the chief officer chair model (from 7 May 2024), by seeded random draw.
    page.goto("/oversight/hearings/")
    page.get_by_label("Officer reference").fill("PC 0002 Fictional")
    page.get_by_label("Force", exact=True).fill("Fictional Constabulary")
    fill_date(page, "Referral date", "2024-06-01")
    not_senior(page)
    page.get_by_role("button", name="Save referral").click()
    assert "Chief officer chair model" in page.get_by_test_id("panel-model").inner_text()
    page.get_by_label("Seeded random draw").check()
    page.get_by_label("Seed for the random draw").fill("7")
    page.get_by_label("Chair (chief officer or delegate): name").fill("ACC Fictional")
    page.get_by_role("button", name="Appoint panel").click()
    panel = page.get_by_test_id("panel-table").inner_text()
    assert "ACC Fictional" in panel and "seed 7" in panel
    assert panel.count("Layfictional") >= 2 and "Chairfictional" in panel

    # Dashboard: sergeants (2) are suppressed, and so is what would give them away.
    page.goto("/oversight/statistics/")
    workforce = page.get_by_test_id("table-workforce-sex").inner_text()
    assert "[c]" in workforce
    expect(page.get_by_test_id("chart-workforce-sex")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "oversight-dashboard.png"), full_page=True)

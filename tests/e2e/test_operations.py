"""Done when (issue 7): a supervisor registers kit and builds a deployment with a team and kit;
a technician signs for the kit, deploys, recovers and returns it, and the custody chain shows
every step; the rota shows who is on call across a DST change; the welfare dashboard flags a
13-day run."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from haven.accounts.roles import Role
from haven.equipment import triggers
from tests.e2e.forms import fill_date
from tests.factories import PASSWORD, UserFactory, current_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def custody_triggers(page):
    """Install the custody triggers, and lift them again before the test database is flushed
    (SQLite flushes row by row, which an append-only table refuses). An earlier transactional
    test's flush also removed the seeded asset types and allowance tiers: seed them again."""
    from django.apps import apps

    seed_types = importlib.import_module(
        "haven.equipment.migrations.0002_custody_append_only_and_asset_types"
    ).add_asset_types
    seed_tiers = importlib.import_module("haven.rota.migrations.0002_allowance_tiers").add_tiers
    seed_types(apps, None)
    seed_tiers(apps, None)
    with connection.cursor() as cursor:
        triggers.install(cursor.execute, connection.vendor)
    yield
    with connection.cursor() as cursor:
        triggers.drop_for_test_reset(cursor.execute, connection.vendor)


def sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(current_code(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")


def custody(page, kind: str, signature: str, deployment: str | None = None) -> None:
    page.get_by_role("group", name="What is happening").get_by_label(kind, exact=True).check()
    if deployment:
        page.get_by_label("Deployment (to deploy or recover)").select_option(label=deployment)
    page.get_by_label("Signature").fill(signature)
    page.get_by_label("I confirm this hand-over is true and complete").check()
    page.get_by_role("button", name="Sign and record").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()


def test_kit_deployment_custody_rota_and_welfare(page, custody_triggers):
    boss = UserFactory(
        roles=[Role.TECHNICAL_SUPERVISOR], first_name="Sasha", last_name="Supervisorial"
    )
    tech = UserFactory(roles=[Role.TECHNICAL_OFFICER], first_name="Tobin", last_name="Techfield")

    # The supervisor registers kit.
    sign_in(page, boss)
    page.goto("/operations/assets/new/")
    page.get_by_label("Type").select_option(label="Vehicle tracker")
    page.get_by_label("Make").fill("Fictitrack")
    page.get_by_label("Model", exact=True).fill("FT-9")
    page.get_by_label("Serial number").fill("E2E-TRK-001")
    page.get_by_label("SIM details").fill("ICCID 8944 0000 E2E")
    page.get_by_role("button", name="Register").click()
    assert page.get_by_test_id("asset-custodian").inner_text() == "Store"

    # ... and builds a 13-day deployment with a team and the kit.
    start = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=12)).replace(hour=18)
    page.goto("/operations/deployments/new/")
    page.get_by_label("Title").fill("Vehicle tracking")
    page.get_by_label("Objective").fill("Track the vehicle of concern")
    page.get_by_label("Install address").fill("3 Fictional Mews, Testbury")
    page.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends").fill(end.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Plan deployment").click()
    heading = page.get_by_role("heading", level=1).inner_text()
    reference = heading.split()[0]
    page.get_by_label("Colleague").select_option(label=f"{tech} ({tech.username})")
    page.get_by_role("button", name="Add to team").click()
    page.get_by_label("Asset").select_option(label="Vehicle tracker E2E-TRK-001")
    page.get_by_role("button", name="Assign kit").click()
    assert "Tobin Techfield" in page.get_by_test_id("team").inner_text()
    assert "E2E-TRK-001" in page.get_by_test_id("kit").inner_text()
    sign_out(page)

    # The technician signs for the kit, deploys, recovers and returns it.
    sign_in(page, tech)
    page.goto("/operations/deployments/")
    page.get_by_role("link", name=reference).click()
    assert "3 Fictional Mews" in page.get_by_test_id("install-address").inner_text()
    page.get_by_role("link", name="Vehicle tracker E2E-TRK-001").click()
    label = f"{reference} Vehicle tracking"
    custody(page, "Issued from store (signed for)", "Tobin Techfield")
    assert page.get_by_test_id("asset-custodian").inner_text() == "Tobin Techfield"
    custody(page, "Deployed at site", "Tobin Techfield", label)
    assert page.get_by_test_id("asset-state").inner_text() == "Deployed"
    custody(page, "Recovered from site", "Tobin Techfield", label)
    custody(page, "Returned to store", "Tobin Techfield")
    rows = page.get_by_test_id("custody-table").locator("tbody tr")
    kinds = [rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())]
    assert kinds == [
        "Received into store",
        "Issued from store (signed for)",
        f"Deployed at site ({reference})",
        f"Recovered from site ({reference})",
        "Returned to store",
    ]
    expect(page.get_by_text("Chain intact")).to_be_visible()
    sign_out(page)

    # The supervisor's rota shows who is on call across the spring DST change.
    sign_in(page, boss)
    page.goto("/operations/rota/new/")
    page.get_by_label("Name", exact=True).fill("Technical on call")
    fill_date(page, "Starts on", "2025-03-01")
    page.get_by_role("button", name="Create rota").click()
    page.get_by_text("Add a layer", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Primary")
    page.get_by_label("Rotation").select_option(label="Daily")
    page.get_by_label("Hand-over time (local)").fill("09:00")
    page.get_by_label(f"{tech} ({tech.username})").check()
    page.get_by_label(f"{boss} ({boss.username})").check()
    page.get_by_role("button", name="Add layer").click()
    fill_date(page, "From", "2025-03-29")
    page.get_by_label("Days", exact=True).fill("3")
    page.get_by_role("button", name="Show schedule").click()
    rows = page.get_by_test_id("schedule").locator("tbody tr")
    first, second = rows.nth(1).inner_text(), rows.nth(2).inner_text()
    assert "Sat 29 Mar 2025 09:00 GMT" in first and "Sun 30 Mar 2025 09:00 BST" in first
    assert "23.0" in first  # the shift across the change is 23 hours
    assert "Sun 30 Mar 2025 09:00 BST" in second and "24.0" in second
    assert "Tobin Techfield" in first + second and "Sasha Supervisorial" in first + second

    # The welfare dashboard flags the 13-day run.
    page.goto("/operations/rota/welfare/")
    row = page.get_by_test_id("welfare").locator("tr", has_text="Tobin Techfield")
    assert "Back-to-back deployments over 12 days" in row.inner_text()
    assert "13-day run" in row.inner_text()

"""Risk in the browser: an officer drafts, a manager approves, an authorising officer endorses,
the PDF prints with its markings, and the review comes due (controllable clock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from haven.access.models import TeamRole
from haven.accounts.roles import Role
from haven.audit.models import LedgerEntry
from haven.cases import services as case_services
from haven.risk import triggers
from haven.risk.models import RiskAssessment
from tests.factories import UserFactory, force_sign_in, make_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def risk_triggers(resettable_ledger: None) -> Iterator[None]:
    """Like resettable_ledger: the test database is flushed row by row on SQLite afterwards."""
    with connection.cursor() as cursor:
        triggers.install(cursor.execute, connection.vendor)
    yield
    with connection.cursor() as cursor:
        triggers.drop_for_test_reset(cursor.execute, connection.vendor)


@pytest.fixture
def as_user(browser, live_server, axe):  # type: ignore[no-untyped-def]
    """Opens a browser context signed in as a user (password and TOTP done server-side); the
    contexts are closed after the test, as the page fixture's is: a page left open polls the
    live server (the unread badge, every minute) through the tests after this one."""
    contexts = []

    def signed_in_as(user):  # type: ignore[no-untyped-def]
        client = force_sign_in(Client(), user)
        session = client.session
        session["haven_purpose"] = "risk_review"
        session.save()
        context = browser.new_context(base_url=live_server.url, accept_downloads=True)
        contexts.append(context)
        # A __Host- cookie (production settings) needs secure, path / and the exact host.
        host = urlsplit(live_server.url).hostname
        cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key}
        cookie |= {"domain": host, "path": "/", "secure": settings.SESSION_COOKIE_SECURE}
        context.add_cookies([cookie])
        return context.new_page()

    yield signed_in_as
    axe.finish()  # while the pages are still open
    for context in contexts:
        context.close()


def test_assessment_from_draft_to_overdue_review_in_the_browser(
    page, as_user, risk_triggers, tmp_path
):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Olive")
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER], first_name="Manny")
    authoriser = UserFactory(roles=[Role.AUTHORISING_OFFICER], first_name="Aurora")
    case = make_case(officer, name="Xanthe Browsercase")
    case_services.add_member(case, manager, TeamRole.MANAGER)
    case_services.add_member(case, authoriser, TeamRole.AUTHORISING)

    # The officer drafts; a threat to life without its Osman elements is refused first.
    # Every step by clicking from Home: the case, then its Risk tab.
    me = as_user(officer)
    me.goto("/")
    me.get_by_role("link", name="Find a case").click()
    me.get_by_role("link", name=case.reference).click()
    me.get_by_test_id("case-nav").get_by_role("link", name="Risk", exact=True).click()
    me.get_by_role("link", name="Start a risk assessment").click()
    me.get_by_label("Threat", exact=True).fill("Contract on the witness")
    me.get_by_role("group", name="Likelihood", exact=True).get_by_label("4").check()
    me.get_by_role("group", name="Impact", exact=True).get_by_label("5").check()
    me.get_by_role("group", name="Likelihood after controls").get_by_label("2").check()
    me.get_by_role("group", name="Impact after controls").get_by_label("5").check()
    me.get_by_label("There is a threat to life").check()
    me.get_by_role("button", name="Save draft").click()
    assert "Record the identified individual" in me.locator(".govuk-error-summary").inner_text()
    me.get_by_label("Why the risk is real and immediate").fill("Intelligence of a contract")
    me.get_by_label("The identified individual").fill("The principal witness")
    me.get_by_label("The criminal acts of a third party").fill("OCG awaiting trial")
    me.get_by_role("button", name="Save draft").click()
    assert me.get_by_test_id("assessment-status").inner_text() == "Draft"
    me.get_by_role("link", name="Add a threat").click()
    me.get_by_label("Source of the threat").fill("OCG enforcer")
    me.get_by_role("group", name="Likelihood", exact=True).get_by_label("4").check()
    me.get_by_role("group", name="Impact", exact=True).get_by_label("5").check()
    me.get_by_role("button", name="Save").click()
    assert "R1" in me.get_by_test_id("matrix-before").inner_text()
    me.get_by_role("button", name="Submit for approval").click()
    assert me.get_by_test_id("assessment-status").inner_text() == "Submitted for approval"
    assessment = RiskAssessment.objects.get()

    # The manager approves: the review date is set by the band (threat to life: 7 days).
    boss = as_user(manager)
    boss.goto("/")
    boss.get_by_role("link", name="Risk assessments to approve or endorse").click()
    boss.get_by_role("link", name="Approve or return").click()
    boss.get_by_role("button", name="Approve").click()
    assert boss.get_by_test_id("assessment-status").inner_text() == "Approved"
    due = timezone.localdate() + timedelta(days=7)
    assert boss.get_by_test_id("next-review").inner_text() == f"{due.day} {due:%B %Y}"

    # The authorising officer endorses and prints the PDF (a disclosure in the ledger).
    ao = as_user(authoriser)
    ao.goto("/")
    ao.get_by_role("link", name="Risk assessments to approve or endorse").click()
    ao.get_by_role("link", name="Endorse or return").click()
    ao.get_by_label("Comments").fill("Endorsed: measures proportionate")
    ao.get_by_role("button", name="Endorse").click()
    assert ao.get_by_test_id("assessment-status").inner_text() == "Endorsed"
    with ao.expect_download() as download:
        ao.get_by_role("link", name="Print (PDF)").click()
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    disclosure = LedgerEntry.objects.get(action="disclosure")
    assert disclosure.actor_username == authoriser.username
    assert disclosure.object_id == str(assessment.pk)

    # Eight days later the review is overdue on the manager's portfolio.
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        later = as_user(manager)
        later.goto("/risk/")
        assert later.get_by_test_id("overdue-count").inner_text() == "1"
        # In the page, not the header (whose unread-notifications badge also reads "1").
        later.locator("main").get_by_role("link", name="1").first.click()
        row = later.get_by_test_id("portfolio-table")
        assert case.reference in row.inner_text()
        expect(row.get_by_test_id("overdue")).to_be_visible()

"""Casework hand-offs: each lands in the next decider's "awaiting you" list and inbox, never in
those of someone without need-to-know; team and grant changes tell the person added; Home
counts and My work list the queue with a fixed number of queries; the dashboard's colours."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haven.accounts.roles import Role
from haven.cases import selectors, services
from haven.notifications.models import AlertCategory, Notification
from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db

PURPOSE = "case_management"


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER])


@pytest.fixture
def authoriser():
    return UserFactory(roles=[Role.AUTHORISING_OFFICER])


@pytest.fixture
def outsider():
    """An authorising officer and manager on no team: every role, no need-to-know."""
    return UserFactory(roles=[Role.AUTHORISING_OFFICER, Role.PROTECTION_MANAGER])


def referral(officer, manager=None, authoriser=None, name="Quentin Fictional"):
    return services.create_case(officer, subject_name=name, manager=manager, authoriser=authoriser)


def advance(actor, case, to, **kwargs):
    case.refresh_from_db()
    return services.change_status(
        actor, case.pk, to_status=to, version=case.version, reason=f"to {to}", **kwargs
    )


FACTORS = {
    "factor_risk": "Credible threat",
    "factor_cost": "Within budget",
    "factor_adjustment": "Willing to relocate",
    "factor_proceedings": "Key witness",
}


def inbox(user, category=None):
    notes = Notification.objects.filter(user=user)
    return list(notes.filter(category=category) if category else notes)


def test_an_assessed_case_waits_for_the_team_authorising_officer_and_tells_them(
    officer, manager, authoriser, outsider
):
    case = referral(officer, manager, authoriser)
    assert selectors.decisions_awaiting(authoriser, PURPOSE) == []
    advance(officer, case, "assessed")

    assert [c.pk for c in selectors.decisions_awaiting(authoriser, PURPOSE)] == [case.pk]
    (note,) = inbox(authoriser, AlertCategory.DECISION)
    assert note.reference == case.reference and "accept or decline" in note.message
    assert note.link == f"/cases/{case.pk}/decision/"
    # Nobody without a place on the team hears of it or sees it, whatever their roles.
    assert selectors.decisions_awaiting(outsider, PURPOSE) == []
    assert inbox(outsider) == []
    # The officer who assessed and the manager are not asked to decide.
    assert selectors.decisions_awaiting(manager, PURPOSE) == []
    assert inbox(manager, AlertCategory.DECISION) == []


def test_the_decision_leaves_the_queue_and_the_next_hand_off_reaches_the_manager(
    officer, manager, authoriser
):
    case = referral(officer, manager, authoriser)
    advance(officer, case, "assessed")
    advance(authoriser, case, "accepted", factors=FACTORS)

    assert selectors.decisions_awaiting(authoriser, PURPOSE) == []
    assert [c.pk for c in selectors.decisions_awaiting(manager, PURPOSE)] == [case.pk]
    (note,) = inbox(manager, AlertCategory.DECISION)
    assert "arrangement as made" in note.message
    advance(manager, case, "active")
    assert selectors.decisions_awaiting(manager, PURPOSE) == []


def test_a_case_with_nobody_to_decide_tells_its_managers_to_add_one(officer, manager):
    case = referral(officer, manager)
    advance(officer, case, "assessed")
    (note,) = inbox(manager, AlertCategory.DECISION)
    assert "add its authorising officer to the team" in note.message
    assert note.link == f"/cases/{case.pk}/team/"


def test_being_added_to_a_team_or_granted_access_is_notified_to_that_person_only(
    officer, manager, outsider
):
    case = referral(officer, manager)
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    services.add_team_member(manager, case.pk, colleague, "officer")
    (note,) = inbox(colleague, AlertCategory.ACCESS)
    assert note.reference == case.reference and "as officer" in note.message

    reader = UserFactory(roles=[Role.PROTECTION_OFFICER])
    services.grant_access(manager, case.pk, reader, reason="Covering leave", days=3)
    (grant_note,) = inbox(reader, AlertCategory.ACCESS)
    assert "Covering leave" in grant_note.message
    assert inbox(outsider) == []
    assert inbox(manager, AlertCategory.ACCESS) == []  # the actor is not told what they did


def test_notification_text_is_encrypted_at_rest(officer, manager, authoriser):
    case = referral(officer, manager, authoriser, name="Xanthe Plaintextcheck")
    advance(officer, case, "assessed")
    (note,) = inbox(authoriser, AlertCategory.DECISION)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT message FROM notifications_notification WHERE id = %s",
            [note.pk.hex if connection.vendor == "sqlite" else note.pk],
        )
        (stored,) = cursor.fetchone()
    assert case.reference not in str(stored) and "accept" not in str(stored)


# --------------------------------------------------------------------------- web


def web(client, user):
    force_sign_in(client, user)
    session = client.session
    session["haven_purpose"] = PURPOSE
    session.save()
    return client


def assessed_cases(officer, manager, authoriser, n):
    for index in range(n):
        case = referral(officer, manager, authoriser, name=f"Case Fictional{index}")
        advance(officer, case, "assessed")


def test_my_work_lists_decisions_awaiting_in_a_fixed_number_of_queries(
    client, officer, manager, authoriser
):
    assessed_cases(officer, manager, authoriser, 2)
    web(client, authoriser).get("/cases/my-work/")  # first request: session set-up queries
    with CaptureQueriesContext(connection) as few:
        page = client.get("/cases/my-work/")
    assert page.status_code == 200
    assert page.content.decode().count("Decide whether to accept or decline") == 2
    assessed_cases(officer, manager, authoriser, 4)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/cases/my-work/")
    assert page.content.decode().count("Decide whether to accept or decline") == 6
    assert len(many) == len(few)  # no query per case


def test_my_work_says_plainly_when_nothing_waits(client, outsider):
    page = web(client, outsider).get("/cases/my-work/")
    assert "Nothing is waiting for you." in page.content.decode()


def test_home_counts_what_awaits_and_marks_overdue_work_red(
    client, officer, manager, authoriser, outsider
):
    assessed_cases(officer, manager, authoriser, 2)
    case = referral(officer, manager, authoriser)
    services.create_task(officer, case.pk, title="Visit", due_on=date(2020, 1, 1), owner=officer)

    force_sign_in(client, authoriser).get("/")  # first request: session set-up queries
    with CaptureQueriesContext(connection) as few:
        body = client.get("/").content.decode()
    assert "Decisions awaiting you" in body and 'data-testid="count">2<' in body
    assert "Nothing is waiting for you" not in body
    assessed_cases(officer, manager, authoriser, 3)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/").content.decode()
    assert 'data-testid="count">5<' in body
    assert len(many) == len(few)

    force_sign_in(client, officer)
    body = client.get("/").content.decode()
    assert "Tasks, reviews and escalations" in body
    assert 'govuk-tag--red" data-testid="overdue">1 overdue' in body

    force_sign_in(client, outsider)
    body = client.get("/").content.decode()
    assert "Nothing is waiting for you." in body and "Decisions awaiting you" not in body


def test_the_dashboard_shows_overdue_in_red_never_in_a_green_panel(client, officer, manager):
    case = referral(officer, manager)
    services.create_task(manager, case.pk, title="Late", due_on=date(2020, 1, 1), owner=officer)
    body = web(client, manager).get("/cases/dashboard/").content.decode()
    assert "govuk-panel--confirmation" not in body
    assert 'class="haven-stat haven-stat--overdue" data-testid="overdue-panel"' in body

    quiet = UserFactory(roles=[Role.PROTECTION_MANAGER])
    referral(officer, quiet)
    body = web(client, quiet).get("/cases/dashboard/").content.decode()
    assert 'class="haven-stat" data-testid="overdue-panel"' in body

"""Overdue psychological assessments in Home's "Awaiting you" (issue 20, item 8): a protection
manager sees how many protection staff are overdue, a technical supervisor how many operations
staff; officers see no such line, and neither supervisor counts the other group's people. The
dates are health data: the read goes through the rota selector and is ledgered, and Home stays
at a fixed number of queries however many people are overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from haven.accounts.roles import Role
from haven.audit.models import Action, LedgerEntry
from haven.rota import selectors, services
from haven.rota.staff import OPERATIONS, PROTECTION
from tests.equipment.helpers import supervisor, technician
from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db

LABEL = "Psychological assessments overdue"


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER])


@pytest.fixture
def boss():
    return supervisor()


def assessed(supervisor_user, person, days_ago, group):  # type: ignore[no-untyped-def]
    services.record_psych_assessment(
        supervisor_user,
        person=person,
        assessed_on=timezone.localdate() - dt.timedelta(days=days_ago),
        group=group,
    )
    return person


def officers(manager, count, days_ago=400):  # type: ignore[no-untyped-def]
    return [
        assessed(manager, UserFactory(roles=[Role.PROTECTION_OFFICER]), days_ago, PROTECTION)
        for _ in range(count)
    ]


def overdue_line(body: str) -> str | None:
    """The count cell of the overdue line, or None when Home has no such line."""
    if LABEL not in body:
        return None
    after = body.split(LABEL, 1)[1]
    return after.split('data-testid="count">', 1)[1].split("<", 1)[0]


def test_the_selector_lists_only_the_groups_overdue_people_and_ledgers_the_read(manager, boss):
    late = officers(manager, 2)
    officers(manager, 1, days_ago=90)  # assessed recently: not due
    UserFactory(roles=[Role.PROTECTION_OFFICER])  # none recorded: flagged apart, not counted
    tech = assessed(boss, technician(), 500, OPERATIONS)
    assert {p.pk for p in selectors.overdue_psych_assessments(manager, PROTECTION)} == {
        p.pk for p in late
    }
    assert [p.pk for p in selectors.overdue_psych_assessments(boss, OPERATIONS)] == [tech.pk]
    entry = LedgerEntry.objects.filter(
        action=Action.CONSULTATION, object_id="psych_overdue:protection"
    ).get()
    assert entry.actor_id == manager.pk and "last_psych_assessment" in entry.fields


def test_a_manager_sees_the_line_on_home_linking_to_the_dashboard(client, manager):
    officers(manager, 2)
    body = force_sign_in(client, manager).get("/").content.decode()
    assert overdue_line(body) == "2"
    assert 'href="/protection/welfare/">Psychological assessments overdue' in body
    assert 'data-testid="overdue">2 overdue' in body


def test_a_technical_supervisor_sees_their_own_group_only(client, manager, boss):
    officers(manager, 3)
    assessed(boss, technician(), 500, OPERATIONS)
    body = force_sign_in(client, boss).get("/").content.decode()
    assert overdue_line(body) == "1"
    assert 'href="/operations/rota/welfare/">Psychological assessments overdue' in body


def test_another_groups_supervisor_does_not_count_them(client, manager, boss):
    officers(manager, 2)
    body = force_sign_in(client, boss).get("/").content.decode()
    assert overdue_line(body) is None  # Home hides empty lines: nobody of the boss's group
    assert selectors.overdue_psych_assessments(boss, OPERATIONS) == []
    other = UserFactory(roles=[Role.PROTECTION_MANAGER])
    assert len(selectors.overdue_psych_assessments(other, PROTECTION)) == 2  # the group's, any


def test_an_officer_does_not_see_the_line(client, manager):
    late = officers(manager, 2)
    body = force_sign_in(client, late[0]).get("/").content.decode()
    assert overdue_line(body) is None
    tech = assessed(supervisor(), technician(), 500, OPERATIONS)
    assert overdue_line(force_sign_in(Client(), tech).get("/").content.decode()) is None
    assert not LedgerEntry.objects.filter(object_id__startswith="psych_overdue:").exists()


def test_home_reads_them_in_a_fixed_number_of_queries(client, manager):
    officers(manager, 1)
    force_sign_in(client, manager).get("/")  # first request: session set-up queries
    with CaptureQueriesContext(connection) as few:
        body = client.get("/").content.decode()
    assert overdue_line(body) == "1"
    officers(manager, 4)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/").content.decode()
    assert overdue_line(body) == "5"
    assert len(many) == len(few)

"""Statutory deadlines coming due land in oversight staff's "awaiting you" list and are
reminded at the configured working-day thresholds, once per threshold per deadline, only to
people who may see the record."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haven.accounts.roles import Clearance, Role
from haven.notifications.models import AlertCategory, Notification
from haven.oversight import selectors, services
from haven.oversight.models import Complaint
from haven.runtime.periodic import jobs
from tests.factories import UserFactory, force_sign_in
from tests.oversight.helpers import complaint, officer

pytestmark = pytest.mark.django_db

# Received Monday 2 June 2025: the first update to the complainant is due 4 weeks later,
# Monday 30 June; 5 working days before is Monday 23 June, 1 working day before Friday 27 June.
RECEIVED = date(2025, 6, 2)
UPDATE_DUE = date(2025, 6, 30)


def day(clock, on: date) -> None:
    clock.move_to(datetime(on.year, on.month, on.day, 9, tzinfo=UTC), tick=False)


def reminders(user):
    return list(
        Notification.objects.filter(user=user, category=AlertCategory.DEADLINE).order_by(
            "created_at"
        )
    )


def test_reminders_go_at_5_and_1_working_days_once_each_to_those_who_may_see(clock, settings):
    settings.HAVEN_OVERSIGHT_REMINDER_WORKING_DAYS = (5, 1)
    staff = officer()
    uncleared = officer(clearance=Clearance.OFFICIAL)
    protection = UserFactory(roles=[Role.PROTECTION_MANAGER], clearance=Clearance.TOP_SECRET)
    item = complaint(staff, received_on=RECEIVED)
    Complaint.objects.filter(pk=item.pk).update(classification=Clearance.SECRET)

    day(clock, date(2025, 6, 20))  # 6 working days before: not yet
    assert services.send_deadline_reminders() == 0
    day(clock, date(2025, 6, 23))
    assert services.send_deadline_reminders() == 1
    assert services.send_deadline_reminders() == 0  # the next hourly run sends nothing again
    (first,) = reminders(staff)
    assert first.reference == item.reference
    assert "due in 5 working days (30 Jun 2025)" in first.message
    assert first.link == f"/oversight/complaints/{item.pk}/"
    day(clock, date(2025, 6, 27))
    assert services.send_deadline_reminders() == 1
    assert services.send_deadline_reminders() == 0
    assert "due in 1 working day " in reminders(staff)[1].message
    # Nobody without the module or the clearance hears of the complaint.
    assert reminders(uncleared) == [] and reminders(protection) == []
    assert selectors.deadlines_due(uncleared, 5) == []


def test_a_first_run_past_both_thresholds_sends_one_reminder_not_two(clock, settings):
    settings.HAVEN_OVERSIGHT_REMINDER_WORKING_DAYS = (5, 1)
    staff = officer()
    complaint(staff, received_on=RECEIVED)
    day(clock, date(2025, 6, 27))
    assert services.send_deadline_reminders() == 1
    assert services.send_deadline_reminders() == 0
    assert len(reminders(staff)) == 1


def test_the_thresholds_are_configuration(clock, settings):
    settings.HAVEN_OVERSIGHT_REMINDER_WORKING_DAYS = (10,)
    staff = officer()
    complaint(staff, received_on=RECEIVED)
    day(clock, date(2025, 6, 16))  # 10 working days before 30 June
    assert services.send_deadline_reminders() == 1
    day(clock, date(2025, 6, 27))
    assert services.send_deadline_reminders() == 0


def test_the_reminder_job_is_scheduled():
    assert "haven.oversight.tasks.send_deadline_reminders" in {
        job.task.module_path for job in jobs()
    }


def test_oversight_home_and_home_page_list_what_is_due(clock, client):
    staff = officer()
    complaint(staff, received_on=RECEIVED)
    day(clock, date(2025, 6, 25))
    force_sign_in(client, staff)
    client.get("/")
    with CaptureQueriesContext(connection) as few:
        body = client.get("/").content.decode()
    assert "Statutory deadlines due soon" in body and 'data-testid="count">1<' in body
    page = client.get("/oversight/").content.decode()
    assert "Next update to the complainant" in page and "3 working days" in page
    for _ in range(3):
        complaint(staff, received_on=RECEIVED)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/").content.decode()
    assert 'data-testid="count">4<' in body
    assert len(many) == len(few)

    day(clock, date(2025, 7, 1))  # the updates are now overdue: red
    body = force_sign_in(client, staff).get("/").content.decode()  # (the session had expired)
    assert 'govuk-tag--red" data-testid="overdue">4 overdue' in body


def test_nothing_due_is_said_plainly(clock, client):
    staff = officer()
    force_sign_in(client, staff)
    assert "Nothing is waiting for you." in client.get("/").content.decode()
    assert "Nothing is waiting for you." in client.get("/oversight/").content.decode()

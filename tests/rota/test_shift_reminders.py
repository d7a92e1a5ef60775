"""Who is told about their on-call duty: a person put on a rota (a layer or an override) by
someone else is told at once, and everyone is reminded before each of their shifts starts
(a scheduled job, once per shift), on both staff groups' rotas."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from haven.audit.models import LedgerEntry
from haven.notifications.models import AlertCategory, Notification
from haven.rota import services
from haven.rota.models import Rotation
from haven.rota.staff import PROTECTION
from haven.runtime import periodic

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def rota_of(supervisor, people, group=None, handover=dt.time(9)):  # type: ignore[no-untyped-def]
    extra = {"group": group} if group else {}
    rota = services.create_rota(
        supervisor, name="Night cover", starts_on=dt.date(2025, 6, 1), **extra
    )
    services.add_layer(
        supervisor,
        rota.pk,
        name="Primary",
        members=people,
        handover_time=handover,
        rotation=Rotation.DAILY,
        **extra,
    )
    return rota


def reminders(person):  # type: ignore[no-untyped-def]
    return list(Notification.objects.filter(user=person, category=AlertCategory.REMINDER))


def test_people_put_on_a_layer_are_told_but_not_the_supervisor_who_did_it(boss, tech):
    rota = rota_of(boss, [tech, boss])
    [told] = Notification.objects.filter(user=tech, category=AlertCategory.ROTA)
    assert "Night cover" in told.message and "handover 09:00" in told.message
    assert told.link == f"/operations/rota/{rota.pk}/"
    assert not Notification.objects.filter(user=boss, category=AlertCategory.ROTA).exists()


def test_a_person_given_an_override_is_told_its_times_in_the_rotas_clock(boss, tech):
    rota = rota_of(boss, [boss])
    services.add_override(
        boss,
        rota.pk,
        user=tech,
        starts_at=local(2025, 7, 1, 18),
        ends_at=local(2025, 7, 2, 8),
        reason="Covering leave",
    )
    [told] = Notification.objects.filter(user=tech, category=AlertCategory.ROTA)
    assert "01 Jul 18:00 to 02 Jul 08:00" in told.message


def test_a_shift_is_reminded_once_within_its_notice_and_not_before(boss, tech):
    rota = rota_of(boss, [boss, tech])  # daily from 1 June: tech holds 2 July
    with time_machine.travel(local(2025, 7, 1, 20), tick=False):  # 13 h before the handover
        assert services.remind_upcoming_shifts() == 0
    with time_machine.travel(local(2025, 7, 1, 22), tick=False):  # 11 h before
        assert services.remind_upcoming_shifts() == 1
        assert services.remind_upcoming_shifts() == 0  # the next run finds it already sent
    [reminder] = reminders(tech)
    assert reminder.reference == "on call 02 Jul 2025 09:00"
    assert reminder.link == f"/operations/rota/{rota.pk}/"
    assert "starts Wednesday 02 Jul at 09:00" in reminder.message
    entry = LedgerEntry.objects.filter(object_type="rota", object_id=str(rota.pk)).last()
    assert entry.action == "disclosure" and entry.recipients == [tech.username]
    assert reminders(boss) == []  # boss's 1 July shift began before the notice was looked at


def test_a_shift_already_under_way_and_a_closed_account_are_not_reminded(boss, tech):
    rota_of(boss, [boss, tech])
    with time_machine.travel(local(2025, 7, 2, 10), tick=False):  # inside tech's 2 July shift
        assert services.remind_upcoming_shifts() == 0
    tech.is_active = False
    tech.save(update_fields=["is_active"])
    with time_machine.travel(local(2025, 7, 1, 22), tick=False):
        assert services.remind_upcoming_shifts() == 0
    assert reminders(tech) == []


def test_someone_on_call_without_a_break_has_no_new_shift_to_be_reminded_of(boss, tech):
    rota_of(boss, [tech])  # the only member: one shift runs into the next
    with time_machine.travel(local(2025, 7, 1, 22), tick=False):
        assert services.remind_upcoming_shifts() == 0


@override_settings(SHIFT_REMINDER_HOURS=2)
def test_the_notice_is_configuration(boss, tech):
    rota_of(boss, [boss, tech])
    with time_machine.travel(local(2025, 7, 1, 22), tick=False):
        assert services.remind_upcoming_shifts() == 0
    with time_machine.travel(local(2025, 7, 2, 7, 30), tick=False):
        assert services.remind_upcoming_shifts() == 1


def test_protection_rotas_are_reminded_too(manager, officer):
    rota = rota_of(manager, [manager, officer], group=PROTECTION)
    with time_machine.travel(local(2025, 7, 1, 22), tick=False):
        assert services.remind_upcoming_shifts() == 1
    [reminder] = reminders(officer)
    assert reminder.link == f"/protection/rota/{rota.pk}/"


def test_the_reminders_are_a_scheduled_job():
    assert {job.name: job.interval for job in periodic.jobs()}[
        "remind_upcoming_shifts"
    ] == dt.timedelta(minutes=15)

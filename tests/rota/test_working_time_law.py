"""Working Time Regulations 1998 as worded (issue 21): the reference period without leave,
shorter service, rest in each 24 hours, both weekly-rest options, night work, opt-outs,
compensatory rest, and allowances for time already on call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from haven.rota import selectors, services, welfare
from haven.rota.working_time import ruleset_for
from tests.equipment.helpers import supervisor, technician
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
RULES = ruleset_for(dt.date(2025, 1, 1))
AS_OF = dt.datetime(2025, 6, 30, 12, tzinfo=LONDON)  # a Monday


def at(day: dt.date, hour: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=LONDON) + dt.timedelta(hours=hour)


def shift(day: dt.date, start: float, hours: float, break_minutes: int = 30) -> welfare.Period:
    return welfare.Period(at(day, start), at(day, start + hours), break_minutes)


def assess(work, facts=None, as_of=AS_OF):
    return welfare.assess(
        work=work,
        deployments=[],
        on_call_hours=0,
        last_psych_assessment=dt.date(2025, 1, 1),
        as_of=as_of,
        rules=RULES,
        zone=LONDON,
        facts=facts,
    )


def codes(result) -> list[str]:
    return [flag.code for flag in result.flags if not flag.resolution]


def weekdays(first: dt.date, weeks: int) -> list[dt.date]:
    return [first + dt.timedelta(weeks=w, days=d) for w in range(weeks) for d in range(5)]


# 13 weeks of 52 hours (5 x 10.4 h, no break deducted) ending 2 June, then 4 weeks' leave.
FIRST_DAY = dt.date(2025, 3, 3)
BUSY = [welfare.Period(at(d, 8), at(d, 18.4)) for d in weekdays(FIRST_DAY, 13)]
LEAVE = ((dt.date(2025, 6, 2), dt.date(2025, 6, 29)),)


def test_leave_is_excluded_from_the_48_hour_reference_period():
    """reg 4(6)-(7): the average is (A + B) / C where leave days are "excluded days" made up
    by days worked after the reference period. 13 weeks at 52 h and 4 weeks' leave average
    52 h, not 13 x 52 / 17 = 39.8 h, when the worker started work 13 weeks before the leave."""
    facts = welfare.WorkerFacts(employment_started=FIRST_DAY, leave=LEAVE)
    result = assess(BUSY, facts)
    assert result.weekly_average == 52.0 and "weekly_average" in codes(result)


def test_service_shorter_than_17_weeks_uses_the_period_since_work_started():
    """reg 4(4): "Where a worker has worked for his employer for less than 17 weeks, the
    reference period applicable in his case is the period that has elapsed since he started"."""
    started = dt.date(2025, 5, 19)  # 6 weeks before AS_OF
    work = [welfare.Period(at(d, 8), at(d, 18.4)) for d in weekdays(started, 6)]
    result = assess(work, welfare.WorkerFacts(employment_started=started))
    assert result.reference_weeks == pytest.approx(6.0, abs=0.1)
    assert result.weekly_average > 48 and "weekly_average" in codes(result)


def test_a_written_opt_out_resolves_the_average_flag_but_keeps_it_visible():
    """reg 4(1) is "subject to regulation 5": the worker's written agreement disapplies it."""
    facts = welfare.WorkerFacts(
        employment_started=FIRST_DAY, leave=LEAVE, opt_out_signed=dt.date(2025, 2, 1)
    )
    flag = next(f for f in assess(BUSY, facts).flags if f.code == "weekly_average")
    assert "opt-out" in flag.resolution


def test_split_shifts_with_a_long_night_rest_are_no_daily_rest_breach():
    """reg 10(1): "a rest period of not less than eleven consecutive hours in each 24-hour
    period": 08-12 and 13-17 each day, with 15 hours overnight, meets it."""
    days = [dt.date(2025, 6, 23) + dt.timedelta(days=n) for n in range(5)]
    work = [p for d in days for p in (shift(d, 8, 4, 0), shift(d, 13, 4, 0))]
    assert "daily_rest" not in codes(assess(work))
    short = [shift(dt.date(2025, 6, 26), 8, 10), shift(dt.date(2025, 6, 27), 2, 6)]
    assert "daily_rest" in codes(assess(short))  # 8 hours' rest in those 24 hours


def _every_day_but(free: set[int], days: int = 14) -> list[welfare.Period]:
    first = dt.date(2025, 6, 16)
    return [shift(first + dt.timedelta(days=n), 8, 8) for n in range(days) if n not in free]


def test_weekly_rest_either_option():
    """reg 11(1) 24 hours in each 7 days; reg 11(2) where the employer so determines, two
    24-hour rests or one 48-hour rest in each 14 days instead."""
    two_days_off_together = _every_day_but({0, 1}, days=14)  # 48 h+ rest, then 12 days on
    weekly = assess(two_days_off_together, as_of=at(dt.date(2025, 6, 30), 12))
    assert "weekly_rest" in codes(weekly)  # 12 days without 24 hours' rest breaks reg 11(1)
    fortnightly = assess(
        two_days_off_together,
        welfare.WorkerFacts(weekly_rest_option="fortnightly"),
        as_of=at(dt.date(2025, 6, 30), 12),
    )
    assert "weekly_rest" not in codes(fortnightly)
    no_long_rest = _every_day_but(set(), days=15)
    assert "weekly_rest" in codes(
        assess(no_long_rest, welfare.WorkerFacts(weekly_rest_option="fortnightly"))
    )


def test_night_worker_over_8_hours_in_24_is_flagged():
    """reg 6(1): a night worker's normal hours "in any reference period ... do not exceed an
    average of eight hours for each 24 hours"; night time by default 11 pm to 6 am (reg 2)."""
    started = dt.date(2025, 5, 5)
    nights = [
        welfare.Period(at(day, 20), at(day, 32))  # 8 pm to 8 am: 7 hours of night time
        for day in (started + dt.timedelta(days=n) for n in range(56))
        if day.weekday() < 6
    ]
    result = assess(nights, welfare.WorkerFacts(employment_started=started))
    assert result.night_worker and result.night_average > 8 and "night_work" in codes(result)
    days = [shift(d, 8, 8) for d in weekdays(started, 8)]
    assert not assess(days, welfare.WorkerFacts(employment_started=started)).night_worker


@time_machine.travel(dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC), tick=False)
def test_records_of_terms_leave_and_compensatory_rest_feed_the_assessment():
    boss, tech = supervisor(), technician()
    services.set_working_time_terms(
        boss,
        person=tech,
        employment_started_on=FIRST_DAY,
        opt_out_signed_on=None,
        opt_out_ended_on=None,
        weekly_rest_option="weekly",
    )
    services.record_leave(boss, person=tech, starts_on=LEAVE[0][0], ends_on=LEAVE[0][1])
    for period in BUSY:
        services.record_work(
            boss, person=tech, starts_at=period.starts_at, ends_at=period.ends_at, break_minutes=0
        )
    result = selectors.assess_people([tech], AS_OF)[0].assessment
    assert result.weekly_average == 52.0 and result.excluded_days == 28
    other = technician()
    for start in (at(dt.date(2025, 6, 29), 14), at(dt.date(2025, 6, 30), 0)):
        services.record_work(
            boss, person=other, starts_at=start, ends_at=start + dt.timedelta(hours=6)
        )  # 4 hours' rest between them, at most 8 in the 24 hours from 29 June 14:00
    flagged = selectors.assess_people([other], AS_OF)[0].assessment
    assert "daily_rest" in codes(flagged)
    breach = next(f for f in flagged.flags if f.code == "daily_rest")
    services.record_compensatory_rest(
        boss,
        person=other,
        rule_code="daily_rest",
        breach_on=breach.when.astimezone(LONDON).date(),
        hours=Decimal("3"),
        exception="reg21",
    )
    assert "daily_rest" not in codes(selectors.assess_people([other], AS_OF)[0].assessment)
    with pytest.raises(PermissionDenied):
        services.record_leave(tech, person=tech, starts_on=LEAVE[0][0], ends_on=LEAVE[0][1])
    with pytest.raises(ValidationError, match="overlaps"):
        services.record_leave(boss, person=tech, starts_on=LEAVE[0][1], ends_on=LEAVE[0][1])


@time_machine.travel(dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC), tick=False)
def test_supervisor_records_leave_on_the_person_page_and_the_person_cannot():
    boss, tech = supervisor(), technician()
    page = f"/operations/rota/welfare/{tech.pk}/"
    data = {"action": "leave", "leave-starts_on": "2025-06-02", "leave-ends_on": "2025-06-06"}
    response = force_sign_in(Client(), boss).post(page, data)
    assert response.status_code == 302
    body = force_sign_in(Client(), tech).get("/operations/rota/welfare/me/").content.decode()
    assert 'value="leave"' not in body  # no leave form for the person themselves
    force_sign_in(Client(), tech).post("/operations/rota/welfare/me/", data)
    from haven.rota.models import LeavePeriod

    assert LeavePeriod.objects.filter(user=tech).count() == 1


@time_machine.travel(dt.datetime(2025, 3, 16, 12, tzinfo=dt.UTC), tick=False)
def test_allowances_count_only_time_already_on_call():
    """An on-call allowance is for days on which time "is spent on call": mid-month the rest of
    the month's rota is not yet spent (Police Regs 2003 Annex U para 13 [S])."""
    from haven.rota.models import AllowanceTier
    from tests.rota.test_rota import daily_rota

    boss, a, b = supervisor(), technician(), technician()
    tier = AllowanceTier.objects.get(code="officer-daily")
    daily_rota(boss, [a, b], allowance_tier=tier)
    rows = {row.person: row for row in selectors.allowance_summary(boss, 2025, 3)}
    assert rows[a].hours + rows[b].hours == pytest.approx(15 * 24 + 3)  # 1 Mar 09:00 to now
    assert (rows[a].days, rows[b].days) == (16, 15)  # nobody is paid for 17-31 March yet
    assert rows[a].amount == rows[a].days * tier.daily_amount

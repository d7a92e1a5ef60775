from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from haven.equipment import services as equipment_services
from haven.equipment.models import TeamPlace
from haven.rota import selectors, services
from haven.rota.working_time import RULESETS, ruleset_for
from tests.equipment.helpers import make_deployment, supervisor, technician
from tests.factories import web_client

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)


def codes(person, as_of=NOW):
    return [flag.code for flag in selectors.assess_people([person], as_of)[0].assessment.flags]


def work(person, start, hours, break_minutes=30):
    return services.record_work(
        person,
        person=person,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        break_minutes=break_minutes,
    )


def test_every_threshold_carries_its_citation_and_a_version():
    rules = ruleset_for(dt.date(2025, 1, 1))
    assert rules.version == RULESETS[-1].version
    for code in ("weekly_average", "daily_rest", "weekly_rest", "rest_break"):
        assert "Working Time Regulations 1998" in rules[code].citation
    assert rules["weekly_average"].threshold == 48 and rules["weekly_average"].window == 17


@time_machine.travel(NOW, tick=False)
def test_under_11_hours_rest_is_flagged_not_blocked():
    tech = technician()
    work(tech, dt.datetime(2025, 6, 28, 8, tzinfo=LONDON), 10)
    _, flags = work(tech, dt.datetime(2025, 6, 29, 2, tzinfo=LONDON), 6)
    assert "daily_rest" in [flag.code for flag in flags]


@time_machine.travel(NOW, tick=False)
def test_over_6_hours_without_a_break_is_flagged():
    tech = technician()
    work(tech, dt.datetime(2025, 6, 27, 8, tzinfo=LONDON), 7, break_minutes=0)
    assert "rest_break" in codes(tech)
    other = technician()
    work(other, dt.datetime(2025, 6, 27, 8, tzinfo=LONDON), 7, break_minutes=20)
    assert "rest_break" not in codes(other)


@time_machine.travel(NOW, tick=False)
def test_no_24_hour_rest_in_7_days_is_flagged():
    tech = technician()
    for day in range(8):
        work(tech, dt.datetime(2025, 6, 20 + day, 8, tzinfo=LONDON), 8)  # 16 h rest each night
    assert "weekly_rest" in codes(tech)
    rested = technician()
    for day in (20, 21, 22, 24, 25, 26):  # a free day on the 23rd
        work(rested, dt.datetime(2025, 6, day, 8, tzinfo=LONDON), 8)
    assert "weekly_rest" not in codes(rested)


@time_machine.travel(NOW, tick=False)
def test_a_17_week_average_over_48_hours_is_flagged():
    tech = technician()
    start = NOW - dt.timedelta(weeks=17)
    for week in range(17):
        for day in range(5):
            work(tech, start + dt.timedelta(weeks=week, days=day), 10.5, break_minutes=20)
    result = selectors.assess_people([tech], NOW)[0].assessment
    assert result.weekly_average > 48 and "weekly_average" in [f.code for f in result.flags]


@time_machine.travel(NOW, tick=False)
def test_a_13_day_run_of_back_to_back_deployments_is_flagged_and_12_days_is_not():
    boss, tech, steady = supervisor(), technician(), technician()
    first = make_deployment(boss, start=dt.datetime(2025, 7, 1, 8, tzinfo=LONDON), days=4.4)
    second = make_deployment(boss, start=dt.datetime(2025, 7, 5, 20, tzinfo=LONDON), days=7.5)
    for deployment in (first, second):
        equipment_services.add_team_member(boss, deployment.pk, tech, TeamPlace.TECHNICIAN)
    result = selectors.assess_people([tech], NOW)[0].assessment
    assert result.longest_run_days == 13
    assert "deployment_run" in [f.code for f in result.flags]
    twelve = make_deployment(boss, start=dt.datetime(2025, 7, 20, 8, tzinfo=LONDON), days=11.4)
    equipment_services.add_team_member(boss, twelve.pk, steady, TeamPlace.TECHNICIAN)
    assert "deployment_run" not in codes(steady)


@time_machine.travel(NOW, tick=False)
def test_psychological_assessment_due_dates():
    boss, tech = supervisor(), technician()
    assert "psych_assessment" in codes(tech)  # none recorded
    services.record_psych_assessment(boss, person=tech, assessed_on=dt.date(2025, 1, 1))
    assert "psych_assessment" not in codes(tech)
    assert selectors.assess_people([tech], NOW)[0].assessment.psych_due == dt.date(2026, 1, 1)
    services.record_psych_assessment(boss, person=tech, assessed_on=dt.date(2024, 7, 15))
    assert "psych_assessment" in codes(tech)


@time_machine.travel(NOW, tick=False)
def test_the_psychological_assessment_flag_reads_as_one_phrase():
    boss, tech = supervisor(), technician()
    services.record_psych_assessment(boss, person=tech, assessed_on=dt.date(2024, 7, 15))
    (flag,) = selectors.assess_people([tech], NOW)[0].assessment.flags
    shown = f"{flag.title} {flag.detail}"
    assert shown == "Psychological assessment due by 15 Jul 2025" and "due due" not in shown
    late = technician()
    services.record_psych_assessment(boss, person=late, assessed_on=dt.date(2024, 6, 1))
    (flag,) = selectors.assess_people([late], NOW)[0].assessment.flags
    shown = f"{flag.title} {flag.detail}"
    assert shown == "Psychological assessment due since 1 Jun 2025 (overdue)"


@time_machine.travel(NOW, tick=False)
def test_work_that_ends_before_it_starts_or_overlaps_is_refused():
    tech = technician()
    with pytest.raises(ValidationError, match="after the start"):
        services.record_work(tech, person=tech, starts_at=NOW, ends_at=NOW - dt.timedelta(hours=1))
    work(tech, NOW - dt.timedelta(hours=10), 5)
    with pytest.raises(ValidationError, match="overlaps"):
        work(tech, NOW - dt.timedelta(hours=8), 2)
    with pytest.raises(ValidationError, match="only your own"):
        services.record_work(
            tech, person=technician(), starts_at=NOW - dt.timedelta(hours=3), ends_at=NOW
        )


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_is_for_supervisors_and_people_see_their_own():
    boss, tech = supervisor(), technician()
    assert {p.person for p in selectors.welfare_dashboard(boss)} >= {boss, tech}
    with pytest.raises(PermissionDenied):
        selectors.welfare_dashboard(tech)
    assert selectors.person_welfare(tech, tech.pk).person == tech
    with pytest.raises(Http404):  # another person's welfare is not found, as every refused object
        selectors.person_welfare(tech, boss.pk)


def test_another_persons_welfare_page_is_not_found_unless_you_supervise():
    boss, tech, other = supervisor(), technician(), technician()
    asked = ((tech, other, 404), (tech, boss, 404), (tech, tech, 200), (boss, other, 200))
    for asker, person, status in asked:
        assert web_client(asker).get(f"/operations/rota/welfare/{person.pk}/").status_code == status

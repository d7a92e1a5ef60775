"""Synthetic demo data for rotas: an on-call rota, a week of timesheets and a welfare date;
and, for protection officers (their staff group, staff.py), welfare records and an on-call rota.

Everything is obviously fictional; haven.demo.operations runs the rota after the equipment
demo, and the demo command the protection officers' welfare after the demo accounts."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from haven.accounts.models import User
from haven.rota import services
from haven.rota.models import AllowanceTier, Rota, Rotation, WelfareNote, WorkPeriod
from haven.rota.staff import PROTECTION


def create_demo_rota(boss: User, tech: User) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    if not Rota.objects.filter(name="Technical support on call (demo)").exists():
        rota = services.create_rota(
            boss,
            name="Technical support on call (demo)",
            starts_on=timezone.localdate() - dt.timedelta(days=60),
            allowance_tier=AllowanceTier.objects.filter(code="officer-daily").first(),
        )
        services.add_layer(
            boss,
            rota.pk,
            name="Primary",
            members=[tech, boss],
            handover_time=dt.time(9),
            rotation=Rotation.WEEKLY,
            starts_on=rota.starts_on,
        )
        services.add_layer(
            boss,
            rota.pk,
            name="Weekday days (demo)",
            members=[boss],
            handover_time=dt.time(8),
            rotation=Rotation.DAILY,
            priority=2,
            starts_on=rota.starts_on,
            days_of_week=[0, 1, 2, 3, 4],
            ends_on=timezone.localdate() + dt.timedelta(days=20),
        )
    for days_ago in range(1, 8):
        start = now - dt.timedelta(days=days_ago, hours=3)
        services.record_work(
            tech,
            person=tech,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=9),
            break_minutes=30 if days_ago % 3 else 0,
        )
    services.record_psych_assessment(
        boss, person=tech, assessed_on=timezone.localdate() - dt.timedelta(days=350)
    )


def create_demo_protection_welfare(manager: User, officers: list[User]) -> int:
    """A week of time worked for each officer (the first one's includes a late finish and an
    early start, so the short-rest flag shows), a psychological assessment date (the first
    one's overdue, the others' recent) and a welfare note, recorded by their manager.
    Safe to run twice: officers who already have records are left alone. Returns how many
    officers were given records."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    today = timezone.localdate()
    given = 0
    for number, officer in enumerate(officers):
        if WorkPeriod.objects.filter(user=officer).exists():
            continue
        for days_ago in range(2, 9):
            start = now - dt.timedelta(days=days_ago, hours=4)
            hours = 10 if days_ago == 3 and number == 0 else 8
            services.record_work(
                officer,
                person=officer,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=hours),
                break_minutes=45,
                group=PROTECTION,
            )
        if number == 0:
            # Called out the evening after a long day: under 11 hours' rest before the next.
            callout = now - dt.timedelta(days=3, hours=4) + dt.timedelta(hours=13)
            services.record_work(
                officer,
                person=officer,
                starts_at=callout,
                ends_at=callout + dt.timedelta(hours=3),
                kind="callout",
                note="Alarm activation at a protected address (demo)",
                group=PROTECTION,
            )
        services.record_psych_assessment(
            manager,
            person=officer,
            assessed_on=today - dt.timedelta(days=400 if number == 0 else 90),
            group=PROTECTION,
        )
        if not WelfareNote.objects.filter(user=officer).exists():
            services.record_welfare_note(
                manager,
                person=officer,
                text="Welfare check-in after a relocation (demo): coping well, "
                "reminded of the employee assistance line.",
                group=PROTECTION,
            )
        given += 1
    return given


PROTECTION_ROTA = "Protection duty officer on call (demo)"


def create_demo_protection_rota(manager: User, officers: list[User]) -> Rota | None:
    """A protection rota (its group's, kept apart from operations rotas) on which the demo
    protection officers take a week each, the manager covering a weekend by override. Safe to
    run twice: an existing demo rota is left alone (None)."""
    if not officers or Rota.objects.filter(name=PROTECTION_ROTA).exists():
        return None
    today = timezone.localdate()
    rota = services.create_rota(
        manager,
        name=PROTECTION_ROTA,
        starts_on=today - dt.timedelta(days=28),
        description="Out-of-hours duty officer for protected persons (demo)",
        group=PROTECTION,
    )
    services.add_layer(
        manager,
        rota.pk,
        name="Duty officer",
        members=officers,
        handover_time=dt.time(8),
        rotation=Rotation.WEEKLY,
        starts_on=rota.starts_on,
        group=PROTECTION,
    )
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    starts = timezone.make_aware(dt.datetime.combine(saturday, dt.time(8)), rota.zone)
    services.add_override(
        manager,
        rota.pk,
        user=manager,
        starts_at=starts,
        ends_at=starts + dt.timedelta(days=2),
        reason="Manager covers the weekend (demo)",
        group=PROTECTION,
    )
    return rota

"""Synthetic demo data for rotas: an on-call rota, a week of timesheets and a welfare date.

Everything is obviously fictional; haven.demo.operations runs it after the equipment demo."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from haven.accounts.models import User
from haven.rota import services
from haven.rota.models import AllowanceTier, Rota, Rotation


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

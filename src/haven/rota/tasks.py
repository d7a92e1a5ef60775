"""Background job: reminders before on-call shifts start."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def remind_upcoming_shifts() -> int:
    return services.remind_upcoming_shifts()

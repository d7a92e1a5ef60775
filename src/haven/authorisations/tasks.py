"""Background job: expiry reminders for authorisations in force."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def remind_expiring_authorisations() -> int:
    return len(services.remind_expiring())

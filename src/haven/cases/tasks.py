"""Background jobs (django-tasks). `haven casework_reminders` enqueues; `haven db_worker` runs."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def send_reminders() -> int:
    """Notify owners of tasks, reviews and escalations that are due or overdue (once a day)."""
    return services.send_due_reminders()

"""Background jobs (django-tasks): run by `haven db_worker`, enqueued by the scheduler."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def send_deadline_reminders() -> int:
    """Remind oversight staff of statutory deadlines coming due (once per threshold)."""
    return services.send_deadline_reminders()


@task()
def notify_overdue_governance_actions() -> int:
    """Tell owners of governance actions past their due date (once per due date)."""
    return services.notify_overdue_actions()

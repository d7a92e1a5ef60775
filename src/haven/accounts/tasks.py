"""Background jobs (django-tasks), enqueued by the scheduler (accounts/schedule.py)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def send_expiry_notices() -> int:
    """Warn people and their line managers of vetting, designations and training that lapse."""
    return services.send_expiry_notices()


@task()
def clear_expired_kept_forms() -> int:
    """Delete forms kept on session expiry that nobody signed in for in time."""
    return services.clear_expired_kept_forms()

"""Background jobs: escalate unacknowledged alerts and mark silent devices offline."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def escalate_alerts() -> int:
    return len(services.escalate_due())


@task()
def sweep_offline() -> int:
    return len(services.check_offline())

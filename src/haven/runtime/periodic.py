"""The registry of periodic jobs (declared in each app's schedule.py).

Each app declares its jobs in its own ``schedule.py`` (found by ``autodiscover_modules`` when
the runtime app is ready) with :func:`every`; the scheduler (``haven scheduler``) enqueues each
as a django-tasks task when due and ``haven db_worker`` runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django_tasks.base import Task


@dataclass(frozen=True)
class Job:
    name: str
    interval: timedelta
    task: Task[Any, Any]
    # Skips a due run (until the next interval) when it returns False, e.g. no new entries.
    only_when: Callable[[], bool] | None = None


_jobs: dict[str, Job] = {}


def every(
    interval: timedelta,
    task: Task[Any, Any],
    *,
    name: str | None = None,
    only_when: Callable[[], bool] | None = None,
) -> Job:
    """Declare a periodic job; declaring the same name again replaces it (module reloads)."""
    job = Job(name or task.name, interval, task, only_when)
    _jobs[job.name] = job
    return job


def jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: job.name)

"""The scheduler loop: enqueue each due periodic job once, under the one-scheduler lock.

Catch-up: a job's next due time is counted from when it last ran, not from when it was last
due, so a scheduler that was down for ten intervals runs the job once, not ten times. A job whose
previous run is still queued (the worker is down) is not enqueued again: the queue stays bounded.
Jobs themselves are idempotent (they act on what is due *now*), so a run after a gap is enough.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from . import heartbeat, periodic
from .lock import SchedulerLock
from .models import ScheduledJob

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
# A run the worker took and never finished (the worker was killed) stops blocking after this.
STUCK_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Outcome:
    job: str
    action: str  # "enqueued", "skipped" (only-when said no), "pending" (previous run queued)


def run_pass(now: datetime | None = None) -> list[Outcome]:
    """Enqueue every job that is due at ``now``; return what was done for each due job."""
    now = now or timezone.now()
    outcomes = []
    for job in periodic.jobs():
        outcome = _run_if_due(job, now)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _run_if_due(job: periodic.Job, now: datetime) -> Outcome | None:
    with transaction.atomic():
        row, _ = ScheduledJob.objects.select_for_update().get_or_create(
            name=job.name, defaults={"next_due_at": now}
        )
        if row.next_due_at > now:
            return None
        if _still_queued(job, row.last_task_id, now):
            return Outcome(job.name, "pending")
        row.next_due_at = now + job.interval
        if job.only_when is not None and not job.only_when():
            row.save(update_fields=["next_due_at"])
            return Outcome(job.name, "skipped")
        row.last_task_id = str(job.task.enqueue().id)
        row.last_run_at = now
        row.runs += 1
        row.save(update_fields=["next_due_at", "last_task_id", "last_run_at", "runs"])
    return Outcome(job.name, "enqueued")


def _still_queued(job: periodic.Job, task_id: str, now: datetime) -> bool:
    if not task_id:
        return False
    try:
        result = job.task.get_result(task_id)
    except (TaskResultDoesNotExist, NotImplementedError):
        return False  # pruned, or a backend that keeps no results (the immediate one)
    if result.status == TaskResultStatus.READY:
        return True
    started = result.started_at
    return result.status == TaskResultStatus.RUNNING and (
        started is None or now - started < STUCK_AFTER
    )


def run_forever(stop: threading.Event, tick: float = TICK_SECONDS) -> None:
    """Wait as a standby until the lock is ours, then run passes until ``stop`` is set."""
    lock = SchedulerLock()
    last_beat, was_active = 0.0, None
    try:
        while not stop.is_set():
            active = lock.acquire()
            now = timezone.now()
            # Beat at once on taking over, so health shows the new active scheduler now.
            if active != was_active or now.timestamp() - last_beat >= heartbeat.BEAT_SECONDS:
                heartbeat.beat("scheduler", "active" if active else "standby")
                last_beat, was_active = now.timestamp(), active
            if active:
                _pass_logging_failures(now)
            close_old_connections()
            stop.wait(tick)
    finally:
        lock.release()


def _pass_logging_failures(now: datetime) -> None:
    try:
        for outcome in run_pass(now):
            if outcome.action == "enqueued":
                log.info("enqueued %s", outcome.job)
    except DatabaseError:  # the database is down: keep the lock and try again next tick
        log.exception("scheduler pass failed")

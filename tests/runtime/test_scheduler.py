"""The scheduler pass: catch-up once, no re-enqueue while queued, only-when, and the real
scheduler -> database queue -> worker path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from haven.accounts.roles import Role
from haven.runtime import periodic, scheduler
from haven.runtime.models import ScheduledJob
from haven.telemetry import services as telemetry
from haven.telemetry.models import Alert, AlertStatus
from tests.factories import UserFactory
from tests.telemetry.helpers import make_device, make_rota, message

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
RUNS: list[str] = []


@task()
def count_run() -> None:
    RUNS.append("ran")


@pytest.fixture
def only_test_job(monkeypatch: pytest.MonkeyPatch) -> Iterator[periodic.Job]:
    """The registry holding one counting job, so the product's jobs stay out of these tests."""
    monkeypatch.setattr(periodic, "_jobs", {})
    RUNS.clear()
    yield periodic.every(dt.timedelta(seconds=15), count_run, name="count")


def run_worker() -> None:
    """The real database worker, in-process: runs every ready task, then returns."""
    Worker(
        queue_names=["default"],
        excluded_queue_names=[],
        worker_id="test-worker",
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
    ).run()


@pytest.mark.django_db
def test_a_job_overdue_by_ten_intervals_runs_once(only_test_job):
    start = timezone.now()
    assert [o.action for o in scheduler.run_pass(start)] == ["enqueued"]
    later = start + 10 * only_test_job.interval
    assert [o.action for o in scheduler.run_pass(later)] == ["enqueued"]
    assert scheduler.run_pass(later + dt.timedelta(seconds=1)) == []
    assert RUNS == ["ran", "ran"]
    row = ScheduledJob.objects.get(name="count")
    assert row.runs == 2 and row.next_due_at == later + only_test_job.interval


@pytest.mark.django_db(transaction=True)  # the real worker closes and reopens its connection
@override_settings(TASKS=DATABASE_TASKS)
def test_a_job_still_queued_is_not_enqueued_again(only_test_job):
    start = timezone.now()
    scheduler.run_pass(start)
    outcomes = [scheduler.run_pass(start + n * only_test_job.interval) for n in range(1, 4)]
    assert [o.action for [o] in outcomes] == ["pending"] * 3
    assert DBTaskResult.objects.count() == 1  # the worker is down: the queue stays bounded
    run_worker()
    assert RUNS == ["ran"]
    [after] = scheduler.run_pass(start + 4 * only_test_job.interval)
    assert after.action == "enqueued"


@pytest.mark.django_db
def test_only_when_skips_a_run_until_the_next_interval(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", {})
    RUNS.clear()
    wanted = [False]
    periodic.every(dt.timedelta(minutes=1), count_run, name="count", only_when=lambda: wanted[0])
    start = timezone.now()
    assert [o.action for o in scheduler.run_pass(start)] == ["skipped"]
    wanted[0] = True
    assert scheduler.run_pass(start + dt.timedelta(seconds=30)) == []
    assert [o.action for o in scheduler.run_pass(start + dt.timedelta(minutes=1))] == ["enqueued"]
    assert RUNS == ["ran"]


def test_every_periodic_job_of_the_issue_is_declared():
    declared = {job.name: job.interval for job in periodic.jobs()}
    assert declared["escalate_alerts"] == dt.timedelta(seconds=15)
    assert declared["sweep_offline"] == dt.timedelta(minutes=1)
    assert declared["checkpoint_ledger"] == dt.timedelta(minutes=1)
    assert {"send_reminders", "clear_expired_sessions", "worker_heartbeat"} <= set(declared)


@pytest.mark.django_db(transaction=True)  # the real worker closes and reopens its connection
@override_settings(TASKS=DATABASE_TASKS)
def test_the_scheduler_and_the_worker_escalate_a_due_alert_once():
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, _ = make_rota(officer, UserFactory(roles=[Role.TECHNICAL_OFFICER]))
    [alert] = telemetry.ingest(message(make_device(rota_name=rota_name), alarms=("sos",))).alerts
    assert alert.escalate_at is not None
    due = alert.escalate_at + dt.timedelta(seconds=1)
    with time_machine.travel(due, tick=False):
        enqueued = {o.job for o in scheduler.run_pass() if o.action == "enqueued"}
        assert "escalate_alerts" in enqueued
        run_worker()
        alert.refresh_from_db()
        assert alert.status == AlertStatus.ESCALATED and alert.escalation_level == 1
        # Idempotent: running the escalation again at the same moment escalates nothing more.
        assert telemetry.escalate_due() == []
    assert Alert.objects.get(pk=alert.pk).escalation_level == 1

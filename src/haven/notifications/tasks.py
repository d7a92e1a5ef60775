"""Delivery as a django-tasks job that re-enqueues itself with exponential back-off.

`haven db_worker` runs it; no scheduler is needed. Where the backend cannot defer (the
in-line backend of the tests) the next attempt runs at once."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from . import services


@task()
def deliver(notification_id: str, contact_id: str, attempt: int) -> bool:
    again = services.attempt_delivery(notification_id, contact_id, attempt)
    if again:
        if deliver.get_backend().supports_defer:
            later = timezone.now() + services.backoff(attempt)
            deliver.using(run_after=later).enqueue(notification_id, contact_id, attempt + 1)
        else:
            deliver.call(notification_id, contact_id, attempt + 1)
    return again

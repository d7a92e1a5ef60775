from __future__ import annotations

from typing import ClassVar

from django.db import models


class ScheduledJob(models.Model):
    """When a periodic job last ran and is next due: a restarted scheduler catches up once."""

    name = models.CharField(max_length=80, unique=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField()
    # The django-tasks result id of the last enqueue: not enqueued again while still queued.
    last_task_id = models.CharField(max_length=64, blank=True)
    runs = models.PositiveIntegerField(default=0)

    objects: ClassVar[models.Manager[ScheduledJob]] = models.Manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Heartbeat(models.Model):
    """The last sign of life of one process of one part (web, worker, scheduler, ...)."""

    part = models.CharField(max_length=40)
    instance = models.CharField(max_length=120)  # host:pid
    beat_at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    objects: ClassVar[models.Manager[Heartbeat]] = models.Manager()

    class Meta:
        ordering = ["part", "instance"]
        constraints = [
            models.UniqueConstraint(fields=["part", "instance"], name="runtime_heartbeat_unique")
        ]

    def __str__(self) -> str:
        return f"{self.part} {self.instance}"

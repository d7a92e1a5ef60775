"""Heartbeats: each long-running part says it is alive, at most every ``BEAT_SECONDS``.

``start_beating(part)`` is the one helper a process calls (the web app, the OsmAnd receiver,
the MQTT listener, ``haven up``); the worker's beat is a task the scheduler enqueues, so "worker
alive" means "the queue is being worked".
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.db import close_old_connections
from django.utils import timezone

from .models import Heartbeat

BEAT_SECONDS = 10.0

log = logging.getLogger(__name__)


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(part: str, detail: str = "") -> None:
    Heartbeat.objects.update_or_create(
        part=part,
        instance=instance_name(),
        defaults={"beat_at": timezone.now(), "detail": detail[:200]},
    )


def start_beating(part: str, interval: float = BEAT_SECONDS) -> threading.Event:
    """Beat for ``part`` from a daemon thread until the returned event is set."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                beat(part)
            except Exception:  # a database outage must not kill the part it reports on
                log.warning("heartbeat of %s failed", part, exc_info=True)
            finally:
                close_old_connections()
            stop.wait(interval)

    threading.Thread(target=loop, name=f"heartbeat-{part}", daemon=True).start()
    return stop

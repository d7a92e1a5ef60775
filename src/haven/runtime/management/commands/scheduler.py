"""`haven scheduler [--once]`: enqueue Haven's periodic jobs when due; no cron needed.

Runs until SIGTERM or SIGINT. Several may be started: one holds the lock and acts, the others
wait as standbys and take over when it dies. ``--once`` runs one pass of the due jobs (if the
lock is free) and exits: exit status 1 when another scheduler holds the lock.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.runtime import scheduler
from haven.runtime.lock import SchedulerLock


class Command(BaseCommand):
    help = "Run the periodic jobs (escalation, offline sweep, reminders, checkpoints, expiry)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one pass of due jobs, exit")
        parser.add_argument(
            "--tick", type=float, default=scheduler.TICK_SECONDS, help="seconds between passes"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self._once()
            return
        if options["tick"] <= 0:
            raise CommandError("--tick must be a positive number of seconds")
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.stdout.write("scheduler started (standby until it holds the lock)")
        scheduler.run_forever(stop, options["tick"])
        self.stdout.write("scheduler stopped")

    def _once(self) -> None:
        lock = SchedulerLock()
        if not lock.acquire():
            raise CommandError("another scheduler holds the lock: nothing run")
        try:
            outcomes = scheduler.run_pass()
        finally:
            lock.release()
        for outcome in outcomes:
            self.stdout.write(f"{outcome.job}: {outcome.action}")
        if not outcomes:
            self.stdout.write("no job due")

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from haven.cases import services
from haven.cases.tasks import send_reminders


class Command(BaseCommand):
    help = "Queue the daily reminders for due and overdue casework (run by `haven db_worker`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="send them in this process")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            self.stdout.write(f"{services.send_due_reminders()} reminders sent")
            return
        result = send_reminders.enqueue()
        self.stdout.write(f"reminders queued as task {result.id}")

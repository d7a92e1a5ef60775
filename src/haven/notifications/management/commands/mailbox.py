"""`haven mailbox`: the demo's local mailbox (see haven.notifications.mailbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run a local SMTP mailbox that keeps each message as a file (demo and development)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.EMAIL_PORT)
        parser.add_argument("--dir", type=Path, default=settings.DATA_DIR / "mailbox")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            from haven.notifications.mailbox import serve
        except ImportError as error:  # pragma: no cover - aiosmtpd is in the dev install
            raise CommandError(f"the mailbox needs aiosmtpd: {error}") from error
        try:
            serve(options["host"], options["port"], options["dir"])
        except OSError as error:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {error.strerror}"
            ) from error
        except KeyboardInterrupt:
            return

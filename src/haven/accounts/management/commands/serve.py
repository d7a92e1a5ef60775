from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Haven: Django's server in development, gunicorn otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEBUG:
            call_command("runserver", options["bind"], use_reloader=False)
            return
        import os
        import sys
        from pathlib import Path

        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        arguments = ["gunicorn", "haven.wsgi", "--bind", options["bind"]]
        arguments += ["--workers", str(options["workers"])]
        os.execv(gunicorn, arguments)  # noqa: S606 - replaces this process on purpose

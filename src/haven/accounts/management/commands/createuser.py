from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.accounts import services
from haven.accounts.roles import Clearance, Role


class Command(BaseCommand):
    help = "Create a Haven account. The user enrols TOTP at first sign-in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", action="append", choices=Role.values, default=[])
        parser.add_argument(
            "--clearance", choices=[c.name for c in Clearance], default=Clearance.OFFICIAL.name
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--password", help="omit to be prompted")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or getpass.getpass("Password: ")
        try:
            user = services.create_user(
                options["username"],
                password,
                roles=options["role"],
                clearance=Clearance[options["clearance"]].value,
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"created {user.username} ({', '.join(user.role_labels) or 'no role'})")

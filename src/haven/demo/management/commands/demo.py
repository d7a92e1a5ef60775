from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.table import Table

from haven.demo.accounts import create_demo_accounts
from haven.demo.cases import create_demo_cases


class Command(BaseCommand):
    help = "Load synthetic demo data and (re)create one demo account per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=50, help="how many demo cases")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = create_demo_accounts()
        table = Table(title="Demo accounts (passwords change each time `haven demo` runs)")
        for column in ("user name", "password", "roles", "clearance"):
            table.add_column(column)
        lines = []
        for user, password in accounts:
            table.add_row(
                user.username, password, ", ".join(user.role_labels), user.clearance_label
            )
            lines.append(f"{user.username}\t{password}\t{', '.join(user.roles)}")
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        (settings.DATA_DIR / "demo-accounts.txt").write_text("\n".join(lines) + "\n")
        console = Console()
        console.print(table)
        create_demo_cases(options["cases"])
        console.print(
            f"{options['cases']} demo cases created (officer, manager, authoriser, identity)"
        )
        console.print(
            "Security code for any account: [bold]make otp ACCOUNT=officer[/bold]"
            f" (the list is also in {settings.DATA_DIR / 'demo-accounts.txt'})"
        )

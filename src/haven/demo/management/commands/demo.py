from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from haven.accounts.models import User
from haven.cases.demo import create_demo_checklists
from haven.demo.accounts import create_demo_accounts
from haven.demo.cases import create_demo_cases
from haven.demo.operations import create_demo_operations
from haven.notifications.demo import DEMO_MAIL_DOMAIN, create_demo_contacts
from haven.oversight.demo import create_demo_oversight
from haven.risk.demo import create_demo_risk
from haven.rota.demo import create_demo_protection_rota, create_demo_protection_welfare


class Command(BaseCommand):
    help = "Load synthetic demo data and (re)create one demo account per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=50, help="how many demo cases")
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="processes that build and write the demo cases (PostgreSQL; 1 elsewhere)",
        )
        parser.add_argument(
            "--complaints", type=int, default=20, help="how many demo oversight complaints"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            # Run against a real database it would create accounts up to administrator and
            # TOP SECRET and write their passwords to a file.
            raise CommandError("haven demo runs only in demo mode (HAVEN_DEMO=1); nothing changed")
        first_load = not User.objects.filter(username="officer").exists()
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
        if first_load:
            self.load_data(console, options)
        if create_demo_contacts([user for user, _ in accounts]):
            console.print(
                f"verified e-mail for every account (name@{DEMO_MAIL_DOMAIN}): alerts arrive in "
                f"the demo mailbox, {settings.DATA_DIR / 'mailbox'}"
            )
        else:
            console.print(
                "Demo data is already loaded: accounts got new passwords. For a fresh load use "
                "an empty HAVEN_DATA_DIR (the audit ledger is never rewritten)."
            )
        console.print(
            "Security code for any account: [bold]make otp ACCOUNT=officer[/bold]"
            f" (the list is also in {settings.DATA_DIR / 'demo-accounts.txt'})"
        )

    def load_data(self, console: Console, options: dict[str, Any]) -> None:
        create_demo_cases(options["cases"], workers=options["workers"])
        console.print(f"{options['cases']} demo cases (officer, manager, authoriser, identity)")
        checklists = create_demo_checklists(User.objects.get(username="manager"))
        console.print(f"{checklists} checklists (new arrangement, relocation)")
        risk_cases = create_demo_risk()
        console.print(f"risk assessments, measures and decision logs for {risk_cases} cases")
        create_demo_operations()
        console.print("equipment, deployments and on-call rotas (supervisor, technician)")
        officers = list(User.objects.filter(username__in=("officer", "identity")).order_by("pk"))
        welfare = create_demo_protection_welfare(User.objects.get(username="manager"), officers)
        console.print(f"welfare records for {welfare} protection officers (manager sees them)")
        if create_demo_protection_rota(User.objects.get(username="manager"), officers):
            console.print("a protection on-call rota of the demo officers (manager edits it)")
        console.print(
            "a Teltonika tracker (IMEI 356307042441013) under covert authorisation "
            "PI/DEMO/2026/001, expiring within the reminder notice"
        )
        complaints = create_demo_oversight(options["complaints"])
        console.print(f"{complaints} oversight complaints, panels and workforce figures")

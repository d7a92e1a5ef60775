"""`haven oversight import complaints|workforce FILE [--dry-run] [--user NAME]`.

Every bad row is reported as line, field and reason; if there is any, nothing is imported
and the exit status is 1. A dry run checks the whole file and imports nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.oversight import imports


class Command(BaseCommand):
    help = "Oversight data: import a force's complaint or workforce CSV return."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        importer = commands.add_parser("import", help="import a CSV file (all rows or none)")
        importer.add_argument("kind", choices=["complaints", "workforce"])
        importer.add_argument("file", type=Path)
        importer.add_argument("--dry-run", action="store_true", help="check only; import nothing")
        importer.add_argument("--user", help="oversight account recorded as the importer")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None or not user.can_use(Module.OVERSIGHT):
                raise CommandError(f"{options['user']!r} is not an active oversight account")
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {path}: {error}") from error
        report = imports.run(user, options["kind"], text, dry_run=options["dry_run"])
        console = Console(file=self.stdout, width=120)  # type: ignore[arg-type]
        if report.errors:
            table = Table(title=f"{len(report.errors)} problem(s) in {path.name}")
            for column in ("line", "field", "reason"):
                table.add_column(column)
            for problem in report.errors:
                table.add_row(str(problem.line), problem.field, problem.reason)
            console.print(table)
            raise CommandError(f"nothing imported: fix the {len(report.errors)} problem(s) above")
        if report.dry_run:
            console.print(f"Dry run: all {report.rows} row(s) are valid; nothing imported.")
        else:
            console.print(f"Imported {report.imported} {report.kind} row(s).")

"""`haven status`: each part's heartbeat, the task queue and the ledger's signing lag.

Exit status 0 when every expected part is up, 1 when one is stale or missing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.table import Table

from haven.runtime.health import snapshot


class Command(BaseCommand):
    help = "Show the heartbeat of each part, queue depth and ledger checkpoint lag."
    requires_system_checks: list[str] = []  # an operator's look must work when checks fail

    def handle(self, *args: Any, **options: Any) -> None:
        health = snapshot()
        console = Console(file=self.stdout, width=100)  # type: ignore[arg-type]
        table = Table(title="Haven parts")
        for column in ("part", "state", "last beat (s ago)"):
            table.add_column(column)
        for part in health.parts:
            age = "never" if part.age_seconds is None else f"{part.age_seconds:.0f}"
            table.add_row(part.name, part.state, age)
        console.print(table)
        unsigned = health.oldest_unsigned_age_seconds
        console.print(f"queue depth: {health.queue_depth} task(s) ready")
        console.print(
            "oldest unsigned ledger entry: "
            + ("none (all signed)" if unsigned is None else f"{unsigned:.0f} s old")
        )
        if health.checkpoint_tree_size is None:
            console.print("last checkpoint: none")
        else:
            console.print(
                f"last checkpoint: tree size {health.checkpoint_tree_size}, "
                f"signed at {health.checkpoint_at}"
            )
        if not health.ok:
            self.stderr.write(f"haven status: down: {', '.join(health.down)}")
            raise SystemExit(1)

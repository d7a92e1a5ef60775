from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


class RiskConfig(AppConfig):
    name = "haven.risk"
    label = "risk"
    verbose_name = "Risk"

    def ready(self) -> None:
        # Register this domain's visibility rules (haven.access.visibility).
        from . import visibility  # noqa: F401

        post_migrate.connect(restore_portfolio_counts, sender=self)


def restore_portfolio_counts(using: str, **kwargs: Any) -> None:
    """After every migrate: a later migration that rebuilt the assessment or team table on
    SQLite has dropped the count triggers, and counts kept without them would be wrong. Put
    the triggers back and recount (the audit app does the same for its append-only triggers)."""
    from . import portfolio_counts

    connection = connections[using]
    if not portfolio_counts.missing(connection):
        return

    def execute(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    portfolio_counts.install(execute, connection.vendor)
    portfolio_counts.rebuild(execute)

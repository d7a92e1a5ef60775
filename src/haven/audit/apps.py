from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db import connections
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "haven.audit"
    label = "audit"
    verbose_name = "Audit ledger"

    def ready(self) -> None:
        from haven.audit.checks import check_ledger_guards

        checks.register(check_ledger_guards, checks.Tags.security)
        post_migrate.connect(reinstall_append_only_triggers, sender=self)


def reinstall_append_only_triggers(using: str, **kwargs: Any) -> None:
    """After every migrate (and test flush): a migration that rebuilt a table on SQLite has
    dropped its triggers; the same install function the migrations use puts them back."""
    from haven.audit import triggers

    triggers.install_all(connections[using])

"""System check: refuse to start when an append-only table has lost its triggers.

A table rebuild (SQLite runs one for most AlterField operations) silently drops triggers; the
ledger would then accept UPDATE and DELETE.  Skipped while migrations are pending, because
``migrate`` runs the checks first and the pending migrations are what put the triggers back.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from haven.audit import triggers

MISSING_TRIGGERS = "haven.audit.E001"


def check_append_only_triggers(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            return []
        missing = triggers.missing_everywhere(connection)
    except DatabaseError:
        return []  # no database to look at (yet): the connection's own errors say why
    if not missing:
        return []
    return [
        checks.Error(
            f"append-only triggers are missing: {', '.join(missing)}",
            hint="run `haven migrate` (it reinstalls them); if they are still missing, the "
            "database was altered outside Haven: run `haven audit verify`",
            id=MISSING_TRIGGERS,
        )
    ]

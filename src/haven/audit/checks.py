"""System check: refuse to start when an append-only table has lost its triggers, and warn
when the ledger's copy constraint is not enforced (PostgreSQL).

A table rebuild (SQLite runs one for most AlterField operations) silently drops triggers; the
ledger would then accept UPDATE and DELETE.  Skipped while migrations are pending, because
``migrate`` runs the checks first and the pending migrations are what put the triggers back.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from haven.audit import copies, triggers

MISSING_TRIGGERS = "haven.audit.E001"
COPY_CONSTRAINT_NOT_ENFORCED = "haven.audit.W002"


def _migrated(connection: Any) -> bool:
    """True when no migration is pending (``migrate`` runs the checks before the migrations
    that would put things right)."""
    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


def check_ledger_guards(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The append-only triggers (E001) and, on PostgreSQL, the copy constraint (W002): one
    check, so the migration plan (~17 ms to build) is asked once per start-up."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        if not _migrated(connection):
            return []
        return _missing_triggers(connection) + _unenforced_copy_constraint(connection)
    except DatabaseError:
        return []  # no database to look at (yet): the connection's own errors say why


def _missing_triggers(connection: Any) -> list[checks.CheckMessage]:
    missing = triggers.missing_everywhere(connection)
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


def _unenforced_copy_constraint(connection: Any) -> list[checks.CheckMessage]:
    """PostgreSQL: warn when the constraint holding ledger columns to their stored copies
    (``copies``) is missing, changed or unvalidated. The verify is still sound without it
    (it compares every column itself), but slower, and Haven never lifts it."""
    if connection.vendor != "postgresql" or copies.enforced(connection):
        return []
    return [
        checks.Warning(
            f"the ledger's {copies.NAME} constraint is missing, changed or not validated",
            hint="`haven audit verify` now compares every entry's columns itself (slower) and "
            "names any entry that disagrees with its stored copy; Haven never lifts the "
            "constraint, so the database was altered outside Haven",
            id=COPY_CONSTRAINT_NOT_ENFORCED,
        )
    ]

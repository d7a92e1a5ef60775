"""Helpers shared by the Django-side ledger tests."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command
from django.db import connection

from haven.audit import copies, ledger
from haven.audit.models import LedgerEntry
from haven.concurrency.transactions import service_transaction

APPEND_ONLY_TABLES = ("audit_ledgerentry", "audit_checkpoint", "audit_cosignature")


def write_entries(actor: Any, count: int, start: int = 0) -> list[LedgerEntry]:
    """``count`` consultations, each in its own transaction (a savepoint inside a test)."""
    entries = []
    for number in range(start, start + count):
        with service_transaction():
            entries.append(
                ledger.record(
                    actor=actor,
                    action="consultation",
                    object_type="witness",
                    object_id=number,
                    fields=["address", "new_identity"],
                    justification=f"case review {number} — résumé",
                    case_id=f"CASE-{number % 3}",
                    details={"n": number},
                )
            )
    return entries


def audit(*args: str) -> str:
    """Run `haven audit ...`; returns stdout, raises CommandError on failure."""
    out = io.StringIO()
    call_command("audit", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def checkpoint() -> str:
    return audit("checkpoint", "--force", "--quiet")


def drop_ledger_guards() -> None:
    """What an attacker with DBA rights does first: drop the append-only triggers and, on
    PostgreSQL, the constraint that holds each entry's columns to its stored copy. Inside the
    test's transaction, so the DDL is rolled back with it (both databases have transactional
    DDL)."""
    drop_append_only_triggers()
    if connection.vendor == "postgresql":
        execute(f"ALTER TABLE {copies.TABLE} DROP CONSTRAINT {copies.NAME}")


def drop_append_only_triggers() -> None:
    assert connection.in_atomic_block
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER {table}_no_update")
                cursor.execute(f"DROP TRIGGER {table}_no_delete")
            else:
                cursor.execute(f"DROP TRIGGER {table}_append_only ON {table}")


def execute(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)

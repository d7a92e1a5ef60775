"""The database triggers that make the ledger append-only (installed by migration 0001)."""

from __future__ import annotations

from typing import Any

APPEND_ONLY_TABLES = ("audit_ledgerentry", "audit_checkpoint")


def install(execute: Any, vendor: str) -> None:
    # TRUNCATE is left to privileges (REVOKE TRUNCATE from the service role in production):
    # a statement trigger would also stop the test runner from resetting its own database.
    for table in APPEND_ONLY_TABLES:
        if vendor == "sqlite":
            for operation in ("UPDATE", "DELETE"):
                execute(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
                    f"BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
                )
        elif vendor == "postgresql":
            execute(
                "CREATE OR REPLACE FUNCTION haven_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ "
                "LANGUAGE plpgsql;",
            )
            execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION haven_append_only();"
            )


def drop_for_test_reset(execute: Any, vendor: str) -> None:
    """Only for a test database being flushed between transactional tests (SQLite deletes rows)."""
    if vendor == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for operation in ("update", "delete"):
                execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")

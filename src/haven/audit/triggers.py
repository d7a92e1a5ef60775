"""Database triggers that make tables append-only: the ledger here, and any domain table that
must never be rewritten (custody chain, decision log) through the same `AppendOnly` helper."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Execute = Callable[[str], Any]


@dataclass(frozen=True)
class AppendOnly:
    tables: tuple[str, ...]
    function: str  # PostgreSQL trigger function, one per app so no app needs another's migrations

    def install(self, execute: Execute, vendor: str) -> None:
        # TRUNCATE is left to privileges (REVOKE TRUNCATE from the service role in production):
        # a statement trigger would also stop the test runner from resetting its own database.
        for table in self.tables:
            if vendor == "sqlite":
                for operation in ("UPDATE", "DELETE"):
                    execute(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
                        f"BEFORE {operation} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
                    )
            elif vendor == "postgresql":
                execute(
                    f"CREATE OR REPLACE FUNCTION {self.function}() RETURNS trigger AS $$ "
                    "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ "
                    "LANGUAGE plpgsql;",
                )
                execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                execute(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {self.function}();"
                )

    def drop(self, execute: Execute, vendor: str) -> None:
        """Lift the triggers (demo resets only, inside the caller's transaction)."""
        for table in self.tables:
            if vendor == "sqlite":
                for operation in ("update", "delete"):
                    execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
            elif vendor == "postgresql":
                execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")

    def drop_for_test_reset(self, execute: Execute, vendor: str) -> None:
        """Only for a test database flushed between transactional tests (SQLite deletes rows)."""
        if vendor == "sqlite":
            self.drop(execute, vendor)


LEDGER = AppendOnly(tables=("audit_ledgerentry", "audit_checkpoint"), function="haven_append_only")
APPEND_ONLY_TABLES = LEDGER.tables
install = LEDGER.install
drop_for_test_reset = LEDGER.drop_for_test_reset

"""Database triggers that make tables append-only: the ledger here, and any domain table that
must never be rewritten (custody chain, decision log) through the same `AppendOnly` helper."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper

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

    def trigger_names(self, table: str, vendor: str) -> tuple[str, ...]:
        if vendor == "sqlite":
            return (f"{table}_no_update", f"{table}_no_delete")
        return (f"{table}_append_only",)

    def missing(self, connection: BaseDatabaseWrapper) -> list[str]:
        """Triggers absent (or disabled) on tables that exist; a table not yet created is
        skipped, so an empty database can still be migrated."""
        existing_tables = set(connection.introspection.table_names())
        present = _present_triggers(connection)
        return [
            f"{name} on {table}"
            for table in self.tables
            if table in existing_tables
            for name in self.trigger_names(table, connection.vendor)
            if (table, name) not in present
        ]

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


def _present_triggers(connection: BaseDatabaseWrapper) -> set[tuple[str, str]]:
    """(table, trigger) pairs that are installed and enabled."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' "
                "AND pg_table_is_visible(c.oid)"
            )
        else:
            return set()
        return {(table, name) for table, name in cursor.fetchall()}


def every_append_only() -> Iterator[AppendOnly]:
    """Every AppendOnly declared in an installed app's ``triggers`` module.

    Found by name at run time because the core may not import the domains (import-linter);
    a domain makes a table append-only by declaring it there, nowhere else."""
    for app_config in apps.get_app_configs():
        module_name = f"{app_config.name}.triggers"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        seen: set[int] = set()
        for value in vars(module).values():
            if isinstance(value, AppendOnly) and id(value) not in seen:
                seen.add(id(value))
                yield value


def install_all(connection: BaseDatabaseWrapper) -> None:
    """Install every append-only trigger on the tables that exist (idempotent)."""
    existing_tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for append_only in every_append_only():
            present = AppendOnly(
                tables=tuple(t for t in append_only.tables if t in existing_tables),
                function=append_only.function,
            )
            present.install(cursor.execute, connection.vendor)


def missing_everywhere(connection: BaseDatabaseWrapper) -> list[str]:
    return [name for append_only in every_append_only() for name in append_only.missing(connection)]


LEDGER = AppendOnly(
    tables=("audit_ledgerentry", "audit_checkpoint", "audit_cosignature"),
    function="haven_append_only",
)
APPEND_ONLY_TABLES = LEDGER.tables
install = LEDGER.install
drop_for_test_reset = LEDGER.drop_for_test_reset

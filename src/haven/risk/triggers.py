"""Database triggers that make the decision log (and the workflow and status histories)
append-only. Same approach as haven/audit/triggers.py, with this app's own function name so
neither app depends on the other's migrations."""

from __future__ import annotations

from typing import Any

APPEND_ONLY_TABLES = ("risk_decisionlogentry", "risk_measurestatuschange", "risk_assessmentevent")


def install(execute: Any, vendor: str) -> None:
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
                "CREATE OR REPLACE FUNCTION haven_risk_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ "
                "LANGUAGE plpgsql;",
            )
            execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION haven_risk_append_only();"
            )


def drop_for_test_reset(execute: Any, vendor: str) -> None:
    """Only for a test database flushed between transactional tests (SQLite deletes rows)."""
    if vendor == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for operation in ("update", "delete"):
                execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def drop(execute: Any, vendor: str) -> None:
    """Lift the triggers (demo reset only, inside the caller's transaction; reinstall after)."""
    for table in APPEND_ONLY_TABLES:
        if vendor == "sqlite":
            for operation in ("update", "delete"):
                execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
        elif vendor == "postgresql":
            execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")

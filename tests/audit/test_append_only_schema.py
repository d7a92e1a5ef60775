"""Append-only holds on a database built only by `haven migrate` from zero: no test fixture
installs a trigger, and the system check refuses to start when one is missing."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

import haven
from haven.audit import copies, triggers

SOURCE_ROOT = Path(haven.__file__).resolve().parent.parent

# The tests that copy one migrated database (migrated_once) run on one worker.
migrated_once_group = pytest.mark.xdist_group("append-only-schema")

# Every table whose rows must never change, with the column an UPDATE rewrites.  A new
# append-only table must be added here; test_every_declared_table_is_listed makes sure.
APPEND_ONLY = {
    "audit_ledgerentry": "action",
    "audit_checkpoint": "root_hash",
    "audit_cosignature": "signature",
    "equipment_custodyevent": "id",
    "risk_decisionlogentry": "id",
    "risk_measurestatuschange": "id",
    "risk_assessmentevent": "id",
}


def haven_command(
    database_url: str, data_dir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    keep = ("PATH", "HOME", "LANG", "HAVEN_KEK", "HAVEN_BLIND_INDEX_KEY")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env |= {
        "PYTHONPATH": str(SOURCE_ROOT),
        "DJANGO_SETTINGS_MODULE": "haven.settings",
        "HAVEN_DATA_DIR": str(data_dir),
        "HAVEN_DATABASE_URL": database_url,
        "HAVEN_DEBUG": "1",
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "haven.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,  # a regression that lets `serve` start must fail, not hang
        check=False,
    )


class FreshDatabase:
    """An empty database of the same kind as the test database, migrated by a subprocess."""

    def __init__(
        self, url: str, data_dir: Path, connect: Callable[[], Any], name: str = ""
    ) -> None:
        self.url = url
        self.data_dir = data_dir
        self.connect = connect
        self.name = name  # PostgreSQL's database name

    def haven(self, *args: str) -> subprocess.CompletedProcess[str]:
        return haven_command(self.url, self.data_dir, *args)

    def attempt(self, sql: str) -> str | None:
        """Run one statement in its own transaction, rolled back; the error text or None."""
        with closing(self.connect()) as raw:
            try:
                raw.execute(sql)
            except (sqlite3.DatabaseError, psycopg.Error) as error:
                return str(error)
            finally:
                raw.rollback()
        return None

    def plant_row(self, table: str) -> None:
        """One row with a placeholder in every required column, foreign keys unchecked: the
        triggers fire per row, so an empty table would accept any UPDATE or DELETE."""
        with closing(self.connect()) as raw:
            if isinstance(raw, sqlite3.Connection):
                columns = [
                    (name, kind)
                    for _, name, kind, notnull, default, pk in raw.execute(
                        f"PRAGMA table_info({table})"
                    )
                    if notnull and default is None and not (pk and kind.lower() == "integer")
                ]
            else:
                raw.execute("SET session_replication_role = replica")  # skip FK triggers
                columns = list(
                    raw.execute(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = %s AND is_nullable = 'NO' "
                        "AND column_default IS NULL AND is_identity = 'NO'",
                        [table],
                    )
                )
            names = ", ".join(f'"{name}"' for name, _ in columns)
            values = ", ".join(_placeholder(kind) for _, kind in columns)
            raw.execute(f"INSERT INTO {table} ({names}) VALUES ({values})")
            raw.commit()

    def execute(self, sql: str) -> None:
        with closing(self.connect()) as raw:
            raw.execute(sql)
            raw.commit()


def _placeholder(kind: str) -> str:
    kind = kind.lower()
    if "timestamp" in kind or "datetime" in kind:
        return "CURRENT_TIMESTAMP"
    if kind == "date":
        return "CURRENT_DATE"
    if kind == "uuid":
        return "'00000000-0000-0000-0000-000000000001'"
    if "bool" in kind:
        return "true"
    if "int" in kind or "real" in kind or "decimal" in kind or "numeric" in kind:
        return "1"
    if "double" in kind or "json" in kind:
        return "'1'"
    return "'1'"  # text and varchar; also valid JSON, for SQLite's JSON text columns


@contextmanager
def empty_database(folder: Path, template: FreshDatabase | None = None) -> Iterator[FreshDatabase]:
    """A database of the same kind as the test database: empty, or a copy of `template`."""
    if connection.vendor == "sqlite":
        path = folder / "fresh.sqlite3"
        if template is not None:
            shutil.copy(template.data_dir / "fresh.sqlite3", path)
        yield FreshDatabase(f"sqlite:///{path}", folder, lambda: sqlite3.connect(path))
        return
    settings = connection.settings_dict
    name = f"{settings['NAME']}_fresh_{uuid.uuid4().hex[:8]}"
    server = {
        "host": settings["HOST"] or None,
        "port": settings["PORT"] or None,
        "user": settings["USER"] or None,
        "password": settings["PASSWORD"] or None,
    }
    copy_of = f' TEMPLATE "{template.name}"' if template is not None else ""
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copy_of}')
    url = (
        f"postgres://{server['user'] or ''}"
        f"{':' + server['password'] if server['password'] else ''}"
        f"@{server['host'] or ''}:{server['port'] or 5432}/{name}"
    )
    try:
        yield FreshDatabase(url, folder, lambda: psycopg.connect(dbname=name, **server), name)
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[FreshDatabase]:
    with empty_database(tmp_path) as database:
        yield database


@pytest.fixture(scope="module")
def migrated_once(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_template: Path
) -> Iterator[FreshDatabase]:
    """One database built only by `haven migrate` from zero (a subprocess, the product's
    command); each test below takes a copy, so the module migrates once, not per test. On
    SQLite that is a copy of the run's migrated_sqlite_template."""
    with empty_database(tmp_path_factory.mktemp("migrated")) as database:
        if connection.vendor == "sqlite":
            shutil.copy(migrated_sqlite_template, database.data_dir / "fresh.sqlite3")
        else:
            migrated = database.haven("migrate", "--no-input", "-v", "0")
            assert migrated.returncode == 0, migrated.stderr
        yield database


@pytest.fixture
def migrated_database(migrated_once: FreshDatabase, tmp_path: Path) -> Iterator[FreshDatabase]:
    with empty_database(tmp_path, template=migrated_once) as database:
        yield database


def test_every_declared_table_is_listed(db: None) -> None:
    declared = {
        table for append_only in triggers.every_append_only() for table in append_only.tables
    }
    assert declared == set(APPEND_ONLY)


@migrated_once_group
def test_update_and_delete_fail_on_every_append_only_table_after_migrate_from_zero(
    migrated_database: FreshDatabase,
) -> None:
    for table, column in APPEND_ONLY.items():
        migrated_database.plant_row(table)
        update = migrated_database.attempt(f"UPDATE {table} SET {column} = {column}")
        delete = migrated_database.attempt(f"DELETE FROM {table}")
        assert update is not None and "append-only" in update, f"UPDATE {table} succeeded"
        assert delete is not None and "append-only" in delete, f"DELETE FROM {table} succeeded"


@migrated_once_group
def test_system_check_refuses_a_database_missing_a_trigger(
    migrated_database: FreshDatabase,
) -> None:
    assert migrated_database.haven("check").returncode == 0
    if connection.vendor == "sqlite":
        migrated_database.execute("DROP TRIGGER risk_decisionlogentry_no_delete")
    else:
        migrated_database.execute(
            "DROP TRIGGER risk_decisionlogentry_append_only ON risk_decisionlogentry"
        )
    checked = migrated_database.haven("check", "--deploy")
    assert checked.returncode != 0
    assert "haven.audit.E001" in checked.stderr
    assert "risk_decisionlogentry" in checked.stderr
    served = migrated_database.haven("serve", "--bind", "127.0.0.1:0")  # refuses before binding
    assert served.returncode != 0
    assert "haven.audit.E001" in served.stderr


@migrated_once_group
def test_system_check_warns_of_a_ledger_without_its_copy_constraint(
    migrated_database: FreshDatabase,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no copy constraint: its verify always compares the columns")
    assert "haven.audit.W002" not in migrated_database.haven("check").stderr
    migrated_database.execute(f"ALTER TABLE {copies.TABLE} DROP CONSTRAINT {copies.NAME}")
    checked = migrated_database.haven("check")
    assert checked.returncode == 0  # a warning: the verify is still sound, only slower
    assert "haven.audit.W002" in checked.stderr


def test_migrate_from_zero_passes_the_check(fresh_database: FreshDatabase) -> None:
    """The check skips tables that do not exist yet and defers to pending migrations."""
    checked = fresh_database.haven("check")
    assert checked.returncode == 0, checked.stderr


def test_the_test_database_has_every_trigger_even_after_transactional_tests(db: None) -> None:
    """Fixtures only lift triggers for a flush; the product's post_migrate puts them back."""
    assert triggers.missing_everywhere(connection) == []


@pytest.mark.django_db(transaction=True)
def test_a_flush_leaves_every_trigger_in_place() -> None:
    from django.core.management import call_command

    for append_only in triggers.every_append_only():
        with connection.cursor() as cursor:
            append_only.drop(cursor.execute, connection.vendor)
    call_command("flush", "--no-input", verbosity=0)
    assert triggers.missing_everywhere(connection) == []

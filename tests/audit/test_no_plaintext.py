"""No personal free text in clear in the ledger (issue 17 item 5).

A distinctive text is planted in every reason that reaches the ledger (tests/audit/planting.py),
then the stored bytes are searched: every table's rows (a COPY of each table on PostgreSQL, as
pg_dump takes it), and on SQLite the database file and its write-ahead log as they are on disk.
"""

from __future__ import annotations

import pytest
from django.db import connection

from haven.audit import ledger
from haven.audit.models import LedgerEntry
from tests.sqlite_subprocess import run_python, settings_test_env

from .planting import REASON_SERVICES, plant_every_reason, planted

pytestmark = pytest.mark.django_db

LEDGER_TABLES = {"audit_ledgerentry", "audit_checkpoint"}


def table_dumps() -> dict[str, str]:
    """Every table's rows as text: COPY ... TO STDOUT on PostgreSQL, SELECT * on SQLite."""
    tables = connection.introspection.table_names()
    dumps = {}
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                    dumps[table] = b"".join(bytes(block) for block in copy).decode()
            else:
                cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - introspected names
                dumps[table] = "\n".join(repr(row) for row in cursor.fetchall())
    return dumps


def tables_holding(texts: dict[str, str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, dump in table_dumps().items():
        for service, text in texts.items():
            if text in dump:
                found.setdefault(table, set()).add(service)
    return found


def test_no_planted_reason_is_stored_in_clear_in_any_table():
    texts = plant_every_reason()
    assert set(texts) == set(REASON_SERVICES)
    assert tables_holding(texts) == {}


def test_every_planted_reason_is_in_the_ledger_sealed_and_opens_again():
    texts = plant_every_reason()
    opened = [ledger.open_sealed(entry) for entry in LedgerEntry.objects.all()]
    justifications = {item.get("justification") for item in opened}
    assert set(texts.values()) <= justifications


PLANT_AND_COPY = """
import shutil, sys
import django
django.setup()
from django.db import connection
from tests.audit.planting import plant_every_reason
plant_every_reason()
# Copy the file and its write-ahead log while the connection is still open: on the last close
# SQLite checkpoints the WAL into the file and deletes it.
database = connection.settings_dict["NAME"]
shutil.copyfile(database, sys.argv[1])
shutil.copyfile(str(database) + "-wal", sys.argv[2])
"""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the file and WAL scan is SQLite's")
def test_the_sqlite_file_and_its_wal_hold_no_planted_reason(tmp_path, migrated_sqlite_file):
    """The services run in a subprocess against a migrated SQLite file, as in production."""
    database = migrated_sqlite_file
    env = settings_test_env(tmp_path, database)

    file_copy, wal_copy = tmp_path / "file.bin", tmp_path / "wal.bin"
    run_python(env, "-c", PLANT_AND_COPY, str(file_copy), str(wal_copy))
    texts = {name: planted(name) for name in REASON_SERVICES}
    raw = {"file": file_copy.read_bytes(), "wal": wal_copy.read_bytes()}
    assert raw["wal"], "the WAL was empty: nothing to scan"
    found = {
        (where, name)
        for where, data in raw.items()
        for name, text in texts.items()
        if text.encode() in data
    }
    assert found == set()
    # The scan can fail: the rota's name is stored in clear and is found.
    assert any(b"Planted rota" in data for data in raw.values())

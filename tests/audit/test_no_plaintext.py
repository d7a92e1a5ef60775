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

from .planting import REASON_SERVICES, plant_every_reason

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

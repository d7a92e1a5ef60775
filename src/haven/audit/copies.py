"""PostgreSQL holds every ledger entry's columns to its stored canonical copy.

The copy (``LedgerEntry.canonical``) is what the leaf hash commits to; the columns are what
searches and pages show.  A CHECK constraint compares the two whenever an entry is written,
so `haven audit verify` may hash the copies alone (``fastverify``), provided the catalogue
shows this very constraint, validated on every row.  A DBA who drops it to alter a column
cannot put it back validated without the rows agreeing again, and one who puts back a
different or unvalidated condition is caught by ``enforced``: the verify then compares every
column itself (the reference pass), as it does on SQLite, which has no such constraint.

What is trusted is PostgreSQL's own jsonb parser and comparison (pg_catalog), as the reference
pass already trusts them; ``haven audit verify --from-columns`` trusts neither.
"""

from __future__ import annotations

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_ledgerentry"
NAME = "audit_ledgerentry_copy_agrees"

# The copy parsed as jsonb equals the document built from the columns, key for key: the keys
# of ledger.canonical_bytes_from_values, its time spelled as it spells it (microseconds,
# +00:00).  to_char spells a year BC as the same year AD, and Python spells only years 1-9999,
# so the time must lie in those years.  NULL: an entry written before copies were stored.
CONDITION = """canonical IS NULL OR (
  recorded_at >= '0001-01-01 00:00:00+00' AND recorded_at < '10000-01-01 00:00:00+00'
  AND convert_from(canonical, 'UTF8')::jsonb = jsonb_build_object(
    'action', action, 'actor', actor_username, 'actor_id', actor_id, 'case_id', case_id,
    'details', details, 'fields', fields, 'justification', justification,
    'object_id', object_id, 'object_type', object_type, 'recipients', recipients,
    'recorded_at',
      to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')))"""


def add(connection: BaseDatabaseWrapper) -> bool:
    """Add the constraint (PostgreSQL; idempotent) and validate it on the rows already there.

    True when it is validated.  A row that disagrees (or a copy that is not JSON) leaves it
    unvalidated: new entries are still held to it, and every verify compares each column
    itself and reports the row."""
    if connection.vendor != "postgresql":
        return False
    drop(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {NAME} CHECK ({CONDITION}) NOT VALID")
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute(f"ALTER TABLE {TABLE} VALIDATE CONSTRAINT {NAME}")
        except DatabaseError:
            return False
    return True


def drop(connection: BaseDatabaseWrapper) -> None:
    """Remove the constraint if it is there (PostgreSQL): before adding it again, and when
    audit 0007 is unapplied."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {NAME}")


def enforced(connection: BaseDatabaseWrapper) -> bool:
    """True when the ledger table carries the constraint, validated, with CONDITION as its
    condition.  The definition is compared as this server prints it, against the same
    condition added to an empty copy of the table, so neither spelling nor version matters."""
    if connection.vendor != "postgresql":
        return False
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE haven_copy_agrees (LIKE {TABLE}, "
                f"CONSTRAINT {NAME} CHECK ({CONDITION}))"
            )
            try:
                cursor.execute(
                    "SELECT c.conrelid = 'haven_copy_agrees'::regclass, c.convalidated, "
                    "pg_get_constraintdef(c.oid) FROM pg_constraint c "
                    "WHERE c.conname = %s AND c.contype = 'c' "
                    "AND c.conrelid IN (%s::regclass, 'haven_copy_agrees'::regclass)",
                    [NAME, TABLE],
                )
                rows = cursor.fetchall()
            finally:
                cursor.execute("DROP TABLE haven_copy_agrees")
    except DatabaseError:
        return False
    declared = {definition for is_copy, _, definition in rows if is_copy}
    live = [(validated, definition) for is_copy, validated, definition in rows if not is_copy]
    return len(declared) == 1 and live == [(True, *declared)]

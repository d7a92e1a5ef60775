"""PostgreSQL holds each ledger entry's columns to its stored canonical copy (haven.audit.copies).

A CHECK constraint, added NOT VALID (no table rebuild, no row updated) and then validated over
the entries already there. A ledger whose rows disagree keeps it unvalidated: new entries are
held to it all the same, and `haven audit verify` compares every column itself and reports the
row. SQLite has no such constraint; its verify always compares the columns."""

from django.db import migrations

from haven.audit import copies


def add_copy_constraint(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql" and not copies.add(connection):
        print(
            f"\n  {copies.NAME} is not validated: the ledger holds entries whose columns "
            "disagree with their stored copies; run `haven audit verify`"
        )


def drop_copy_constraint(apps, schema_editor):
    copies.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_perf_ledger_canonical_bytes")]

    operations = [migrations.RunPython(add_copy_constraint, drop_copy_constraint)]

"""Reinstall the append-only triggers: a later migration that rebuilt a table on SQLite
(AlterField) dropped them, and every future rebuild would too (haven.audit.E001 says so)."""

from django.db import migrations

from haven.audit import triggers


def reinstall_append_only_triggers(apps, schema_editor):
    def execute(sql):
        # params=None: the PL/pgSQL body contains a literal '%'.
        schema_editor.execute(sql, params=None)

    # The tables as of this migration (triggers.LEDGER grows with later ones).
    ledger = triggers.AppendOnly(
        tables=("audit_ledgerentry", "audit_checkpoint"), function="haven_append_only"
    )
    ledger.install(execute, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_ledger_case_index_without_like")]

    operations = [
        migrations.RunPython(reinstall_append_only_triggers, migrations.RunPython.noop),
    ]

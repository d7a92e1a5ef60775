"""Reinstall the append-only triggers: a later migration that rebuilt a table on SQLite
(AlterField) dropped them, and every future rebuild would too (haven.audit.E001 says so)."""

from django.db import migrations

from haven.risk import triggers


def reinstall_append_only_triggers(apps, schema_editor):
    def execute(sql):
        # params=None: the PL/pgSQL body contains a literal '%'.
        schema_editor.execute(sql, params=None)

    triggers.install(execute, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    dependencies = [("risk", "0003_portfolio_index")]

    operations = [
        migrations.RunPython(reinstall_append_only_triggers, migrations.RunPython.noop),
    ]

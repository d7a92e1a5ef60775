"""Checkpoints name the log (C2SP signed notes); witnesses' cosignatures are recorded.

Old checkpoints keep an empty origin and their own signed format, so they still verify.
Adding the column rebuilds audit_checkpoint on SQLite, which drops its triggers: the last
operation puts every append-only trigger back, the new cosignature table's included."""

import django.db.models.deletion
from django.db import migrations, models

from haven.audit import triggers


def reinstall_append_only_triggers(apps, schema_editor):
    def execute(sql):
        # params=None: the PL/pgSQL body contains a literal '%'.
        schema_editor.execute(sql, params=None)

    # The tables as of this migration (triggers.LEDGER grows with later ones).
    ledger = triggers.AppendOnly(
        tables=("audit_ledgerentry", "audit_checkpoint", "audit_cosignature"),
        function="haven_append_only",
    )
    ledger.install(execute, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_reinstall_append_only_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkpoint",
            name="origin",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.CreateModel(
            name="Cosignature",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("witness_name", models.CharField(max_length=255)),
                ("key_hash", models.CharField(max_length=8)),
                ("cosigned_at", models.PositiveBigIntegerField()),
                ("signature", models.CharField(max_length=128)),
                ("received_at", models.DateTimeField()),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="audit.checkpoint",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        migrations.RunPython(reinstall_append_only_triggers, migrations.RunPython.noop),
    ]

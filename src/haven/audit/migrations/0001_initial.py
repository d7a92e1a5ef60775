from django.conf import settings
from django.db import migrations, models

from haven.audit import triggers


def install_append_only_triggers(apps, schema_editor):
    def execute(sql):
        # params=None: the PL/pgSQL body contains a literal '%'.
        schema_editor.execute(sql, params=None)

    # The tables as of this migration (triggers.LEDGER grows with later ones).
    ledger = triggers.AppendOnly(
        tables=("audit_ledgerentry", "audit_checkpoint"), function="haven_append_only"
    )
    ledger.install(execute, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    initial = True

    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="LedgerEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("recorded_at", models.DateTimeField()),
                ("actor_username", models.CharField(max_length=150)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("collection", "Collection"),
                            ("alteration", "Alteration"),
                            ("consultation", "Consultation"),
                            ("disclosure", "Disclosure"),
                            ("combination", "Combination"),
                            ("erasure", "Erasure"),
                            ("break_glass", "Break-glass access"),
                            ("access_grant", "Access granted"),
                        ],
                        max_length=20,
                    ),
                ),
                ("object_type", models.CharField(max_length=60)),
                ("object_id", models.CharField(max_length=64)),
                ("case_id", models.CharField(blank=True, db_index=True, max_length=64)),
                ("fields", models.JSONField(default=list)),
                ("recipients", models.JSONField(default=list)),
                ("justification", models.TextField(blank=True)),
                ("details", models.JSONField(default=dict)),
                ("leaf_hash", models.CharField(max_length=64)),
                (
                    "actor",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=models.deletion.DO_NOTHING,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "indexes": [
                    models.Index(
                        fields=["actor_username", "recorded_at"], name="audit_ledge_actor_u_idx"
                    ),
                    models.Index(
                        fields=["object_type", "object_id"], name="audit_ledge_object__idx"
                    ),
                    models.Index(fields=["action", "recorded_at"], name="audit_ledge_action_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tree_size", models.PositiveBigIntegerField()),
                ("root_hash", models.CharField(max_length=64)),
                ("signed_at", models.CharField(max_length=40)),
                ("key_id", models.CharField(max_length=32)),
                ("signature", models.CharField(max_length=128)),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.RunPython(install_append_only_triggers, migrations.RunPython.noop),
    ]

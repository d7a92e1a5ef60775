"""Reasons are personal text: the column becomes an EncryptedTextField, and existing plain
values are sealed in place (issue 17 item 5: the raw database holds no planted reason)."""

from django.db import migrations

import haven.vault.fields


def seal_existing(apps, schema_editor):
    haven.vault.fields.seal_plaintext_column(
        "access_accessgrant", "reason", schema_editor.connection
    )


class Migration(migrations.Migration):
    dependencies = [
        ("vault", "0001_initial"),
        ("access", "0003_notification_moved_to_notifications"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accessgrant",
            name="reason",
            field=haven.vault.fields.EncryptedTextField(null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
    ]

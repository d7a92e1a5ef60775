"""Each new ledger entry keeps its canonical bytes (the leaf input) for a fast verify.

A nullable column added in place (ALTER TABLE ... ADD COLUMN on both databases: no table
rebuild, so the append-only triggers stay); existing entries keep NULL and are verified from
their columns, so no row of the append-only table is ever updated."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_security_events")]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="canonical",
            field=models.BinaryField(editable=False, null=True),
        ),
    ]

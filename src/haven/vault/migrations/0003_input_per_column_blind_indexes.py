"""Blind indexes are keyed per (table, column) and sized by recommended_bits(): recompute the
stored values (issue 18 item 8). Resumable and idempotent like `haven keys rotate
--blind-index`, which finishes the job if this is interrupted or a row cannot be decrypted."""

from django.db import migrations

from haven.vault.fields import BlindIndexField


def reindex(apps, schema_editor):  # type: ignore[no-untyped-def]
    from haven.vault.keyring import reset_keyring_cache
    from haven.vault.rotation import BlindIndexRotation, reindex_columns

    columns = []
    for model in apps.get_models():
        indexed = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
        if indexed:
            columns.append((model, indexed))
    reset_keyring_cache(keep_blind_index_key=True)
    result = reindex_columns(columns, BlindIndexRotation(key_id="", created_key=False))
    if result.failures:
        print(
            f"\n  {len(result.failures)} row(s) could not be re-indexed; fix the keys and run "
            "`haven keys rotate --blind-index`:\n  " + "\n  ".join(result.failures[:20])
        )


class Migration(migrations.Migration):
    dependencies = [
        ("vault", "0002_encryption_counts_and_owner_binding"),
        ("cases", "0002_casework"),
        ("oversight", "0002_deadlinereminder"),
    ]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop, elidable=True)]

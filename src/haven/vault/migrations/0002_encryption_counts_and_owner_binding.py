"""Count encryptions per data key, store rotated blind-index keys, and bind case-owned ciphertext to its owner.

Existing values of case-owned records were sealed with associated data (table, column, row);
they are re-sealed here under the active data key with (table, column, row, owner), so a row
re-pointed at another case fails to decrypt. The owner map is frozen here on purpose (a
migration must not follow later model changes). Rows whose value does not open with the old
binding are left untouched and reported (they already fail to decrypt).
"""

from typing import Any

from django.db import migrations, models

import haven.vault.models

# table -> (owner column, encrypted columns), as of this migration.
OWNED = {
    "cases_identityrecord": ("case_id", ["legacy_name", "legacy_dob", "new_name", "new_dob"]),
    "cases_decision": (
        "case_id",
        ["reason", "factor_risk", "factor_cost", "factor_adjustment", "factor_proceedings"],
    ),
    "cases_transfer": ("case_id", ["cost_terms"]),
    "cases_person": ("case_id", ["full_name", "dob", "phone", "notes"]),
    "cases_location": ("case_id", ["address", "coordinates"]),
    "cases_contactentry": ("case_id", ["summary", "concerns", "follow_up"]),
    "cases_casetask": ("case_id", ["title", "details", "response"]),
    "cases_document": ("case_id", ["title", "filename"]),
    "risk_riskassessment": (
        "case_id",
        [
            "thrive_threat",
            "thrive_harm",
            "thrive_risk",
            "thrive_investigation",
            "thrive_vulnerability",
            "thrive_engagement",
            "osman_real_immediate",
            "osman_identified_individual",
            "osman_third_party",
        ],
    ),
    "risk_protectivemeasure": ("case_id", ["details"]),
    "risk_threat": ("assessment_id", ["source", "capability", "intent", "linked_people"]),
    "risk_vulnerability": ("assessment_id", ["description"]),
    "risk_notice": ("assessment_id", ["recipient", "served_by", "withheld_reason"]),
    "oversight_reviewapplication": (
        "complaint_id",
        ["extension_reason", "recommendations", "force_response"],
    ),
}


def _uuid_text(value: Any) -> str:
    import uuid

    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _key_ring(apps: Any, using: str) -> Any:
    from haven.vault import crypto
    from haven.vault.keyring import configured_kek

    kek = configured_kek()
    ring = crypto.KeyRing()
    for key in apps.get_model("vault", "DataKey").objects.using(using).order_by("created_at"):
        ring.add_key(key.id, kek.unwrap(key.id, bytes(key.wrapped)), active=key.active)
    return ring


def bind_owners(apps: Any, schema_editor: Any) -> None:
    from haven.vault import crypto

    connection = schema_editor.connection
    using = connection.alias
    quote = connection.ops.quote_name
    tables = set(connection.introspection.table_names())
    ring = None
    sealed = 0
    with connection.cursor() as cursor:
        for table, (owner, columns) in OWNED.items():
            if table not in tables:
                continue
            cursor.execute(
                f"SELECT id, {quote(owner)}, {', '.join(map(quote, columns))} FROM {quote(table)}"  # noqa: S608 (quoted names)
            )
            for row_id, owner_id, *tokens in cursor.fetchall():
                row = _uuid_text(row_id)
                binding = f"{owner}={'' if owner_id is None else _uuid_text(owner_id)}"
                for column, token in zip(columns, tokens, strict=True):
                    if token is None:
                        continue
                    ring = ring or _key_ring(apps, using)
                    try:
                        plaintext = ring.decrypt(token, crypto.field_aad(table, column, row))
                    except crypto.VaultIntegrityError:
                        print(f"  vault: {table}.{column} row {row} does not open; left as is")
                        continue
                    aad = crypto.field_aad(table, column, row, binding)
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s",  # noqa: S608
                        [ring.encrypt(plaintext, aad), row_id],
                    )
                    sealed += 1
    if sealed and ring is not None:
        keys = apps.get_model("vault", "DataKey").objects.using(using)
        keys.filter(id=ring.active_key_id).update(encryptions=models.F("encryptions") + sealed)


class Migration(migrations.Migration):
    dependencies = [
        ("vault", "0001_initial"),
        ("cases", "0002_casework"),
        ("risk", "0004_reinstall_append_only_triggers"),
        ("oversight", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="datakey",
            name="encryptions",
            field=models.BigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="BlindIndexKey",
            fields=[
                (
                    "id",
                    models.CharField(
                        default=haven.vault.models.new_blind_index_key_id,
                        max_length=64,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("wrapped", models.BinaryField()),
                ("kek_id", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("state", models.CharField(default="rotating", max_length=16)),
            ],
            options={"ordering": ["created_at", "id"]},
        ),
        migrations.RunPython(bind_owners, migrations.RunPython.noop, elidable=False),
    ]

"""Move the plaintext `access.Notification` rows into the encrypted inbox.

Category and reference are read off the old text (the writers' fixed phrases and the case
reference in it); the text itself is sealed by the vault on save. `access` then drops the
plaintext table (access 0003)."""

import re

from django.db import migrations

REFERENCE = re.compile(r"\b[A-Z]{2,5}-\d{4}-\d{3,}\b")
PHRASES = (
    ("used break-glass access", "break_glass"),
    ("may match someone", "duplicate"),
    ("escalated a query", "escalation"),
    ("ALERT:", "telemetry"),
    (" is overdue since ", "reminder"),
    (" is due on ", "reminder"),
)


def category_of(message):
    for phrase, category in PHRASES:
        if phrase in message:
            return category
    return "general"


def encrypt_existing(apps, schema_editor):
    Old = apps.get_model("access", "Notification")
    New = apps.get_model("notifications", "Notification")
    for old in Old.objects.order_by("pk").iterator():
        found = REFERENCE.search(old.message)
        New(
            user_id=old.user_id,
            category=category_of(old.message),
            reference=found.group(0) if found else "",
            message=old.message,
            link=old.link,
            created_at=old.created_at,
            read_at=old.read_at,
        ).save()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("access", "0002_deployment_team_roles"),
    ]

    operations = [migrations.RunPython(encrypt_existing, migrations.RunPython.noop)]

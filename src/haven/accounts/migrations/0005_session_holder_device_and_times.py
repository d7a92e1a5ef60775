import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_factors_recovery_codes_and_password_resets"),
    ]

    operations = [
        migrations.AddField(
            model_name="hashedsession",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="hashedsession",
            name="device",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="hashedsession",
            name="signed_in_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="hashedsession",
            name="last_seen_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]

"""Secrets at rest (issue 18).

- TOTP seeds move from django-otp's TOTPDevice (seed in clear) to AuthenticatorDevice, whose
  seed the vault seals on save; the clear rows are then deleted, so users keep their
  authenticator app and no seed stays readable.
- Sessions move to `accounts_session`, keyed by a hash of the session key. Existing sessions
  cannot be re-keyed (their keys are what must not be stored): they are deleted, so everyone
  signs in again once.
- API tokens gain a scope. Tokens from before scopes open no module and may only read, until
  their holders issue scoped ones (they expire in at most 90 days anyway).
"""

import django.db.models.deletion
import django_otp.plugins.otp_totp.models
from django.conf import settings
from django.db import migrations, models

import haven.accounts.models
import haven.vault.fields


def seal_totp_seeds(apps, schema_editor):
    Clear = apps.get_model("otp_totp", "TOTPDevice")
    Sealed = apps.get_model("accounts", "AuthenticatorDevice")
    copied = (
        "user_id",
        "name",
        "confirmed",
        "step",
        "t0",
        "digits",
        "tolerance",
        "drift",
        "last_t",
        "throttling_failure_timestamp",
        "throttling_failure_count",
        "created_at",
        "last_used_at",
    )
    for device in Clear.objects.order_by("pk").iterator():
        Sealed(key=device.key, **{field: getattr(device, field) for field in copied}).save()
    Clear.objects.all().delete()


def end_clear_sessions(apps, schema_editor):
    apps.get_model("sessions", "Session").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="HashedSession",
            fields=[
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
                ("session_key", models.CharField(max_length=64, primary_key=True, serialize=False)),
            ],
            options={
                "db_table": "accounts_session",
            },
        ),
        migrations.CreateModel(
            name="SecurityCounter",
            fields=[
                ("key", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("failures", models.PositiveIntegerField(default=0)),
                ("window_ends", models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name="apitoken",
            name="can_write",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="modules",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.CreateModel(
            name="AuthenticatorDevice",
            fields=[
                (
                    "name",
                    models.CharField(
                        help_text="The human-readable name of this device.", max_length=64
                    ),
                ),
                (
                    "confirmed",
                    models.BooleanField(default=True, help_text="Is this device ready for use?"),
                ),
                (
                    "throttling_failure_timestamp",
                    models.DateTimeField(
                        blank=True,
                        default=None,
                        help_text="A timestamp of the last failed verification attempt. Null if last attempt succeeded.",
                        null=True,
                    ),
                ),
                (
                    "throttling_failure_count",
                    models.PositiveIntegerField(
                        default=0, help_text="Number of successive failed attempts."
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        help_text="The date and time when this device was initially created in the system.",
                        null=True,
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="The most recent date and time this device was used.",
                        null=True,
                    ),
                ),
                (
                    "id",
                    models.BigIntegerField(
                        default=haven.accounts.models.random_device_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "key",
                    haven.vault.fields.EncryptedTextField(
                        default=django_otp.plugins.otp_totp.models.default_key
                    ),
                ),
                ("step", models.PositiveSmallIntegerField(default=30)),
                ("t0", models.BigIntegerField(default=0)),
                ("digits", models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)),
                ("tolerance", models.PositiveSmallIntegerField(default=1)),
                ("drift", models.SmallIntegerField(default=0)),
                ("last_t", models.BigIntegerField(default=-1)),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The user that this device belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "authenticator app",
                "abstract": False,
            },
        ),
        migrations.RunPython(seal_totp_seeds, migrations.RunPython.noop),
        migrations.RunPython(end_clear_sessions, migrations.RunPython.noop),
    ]

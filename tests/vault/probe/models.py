"""Test-only models exercising every vault field."""

from __future__ import annotations

import uuid

from django.db import models

from haven.vault.fields import (
    BlindIndexField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
)


class Probe(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = EncryptedTextField()
    dob = EncryptedDateField(null=True, blank=True)
    place = EncryptedJSONField(null=True, blank=True)
    plain = models.CharField(max_length=200, blank=True, db_index=True)
    name_idx = BlindIndexField(kind="name", sources=("name",))
    name_dob_idx = BlindIndexField(kind="name_dob", sources=("name", "dob"))

    def __str__(self) -> str:
        return f"probe {self.pk}"


class PlainProbe(models.Model):
    """Plaintext twin of Probe, only for bench/vault_fields.py comparisons."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.TextField()
    dob = models.DateField(null=True, blank=True)
    name_key = models.CharField(max_length=200, db_index=True)

    def __str__(self) -> str:
        return f"plain probe {self.pk}"

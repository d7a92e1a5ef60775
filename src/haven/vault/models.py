"""Data keys, stored wrapped by the key-encryption key (KEK) that lives outside the database."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q


def new_data_key_id() -> str:
    return "dk" + secrets.token_hex(5)


def new_blind_index_key_id() -> str:
    return "bk" + secrets.token_hex(5)


class DataKey(models.Model):
    """One AES-256 data key, wrapped (``crypto.wrap_data_key``) by the KEK named ``kek_id``.

    Exactly one key is active (used for new encryptions); older keys stay for decryption
    and are never deleted: field values and blobs may still name them.
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_data_key_id)
    wrapped = models.BinaryField()
    kek_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Encryptions made under this key, reserved in leases before use (never below the truth,
    # see keyring.py): AES-GCM with random nonces is safe for about 2**32 per key.
    encryptions = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="vault_one_active_data_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} ({'active' if self.active else 'retired'})"


class BlindIndexKey(models.Model):
    """A blind-index HMAC key made by `haven keys rotate --blind-index`, wrapped by the KEK.

    Without any row the key file / HAVEN_BLIND_INDEX_KEY is the blind-index key. The newest row
    is the key for new index values; while it is ``rotating`` searches also match values under
    the key before it, until every blind-index column has been re-indexed (then ``active``).
    """

    ROTATING, ACTIVE = "rotating", "active"

    id = models.CharField(primary_key=True, max_length=64, default=new_blind_index_key_id)
    wrapped = models.BinaryField()
    kek_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, default=ROTATING)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.id} ({self.state})"

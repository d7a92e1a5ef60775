"""Data keys, stored wrapped by the key-encryption key (KEK) that lives outside the database."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from haven.vault.fields import EncryptedTextField


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


class SealedDocument(models.Model):
    """An uploaded document: title and file name encrypted, bound to the record that owns it
    (the subclass's ``vault_owner`` foreign key); the bytes a vault blob bound to owner and
    document (``blob_aad``), so a row or blob moved to another owner fails to open. Cases and
    complaints each keep their own table of these (``documents.store_sealed`` writes one)."""

    vault_owner: str

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = EncryptedTextField()
    filename = EncryptedTextField()
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    blob_id = models.CharField(max_length=40)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"document {self.pk}"

    def blob_aad(self) -> bytes:
        owner_id = getattr(self, f"{self.vault_owner}_id")
        return f"{self.vault_owner}:{owner_id}:document:{self.pk}".encode()

    @classmethod
    def stored_blobs(cls) -> list[tuple[str, bytes]]:
        """(blob id, aad) of every stored document, for `haven keys rotate`
        (``blobs.register_blob_source``)."""
        owner_column = f"{cls.vault_owner}_id"
        return [
            (document.blob_id, document.blob_aad())
            for document in cls.objects.only("id", owner_column, "blob_id")  # type: ignore[attr-defined]
        ]

"""The append-only audit ledger (DPA 2018 s.62). Database triggers refuse UPDATE and DELETE."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    COLLECTION = "collection", "Collection"
    ALTERATION = "alteration", "Alteration"
    CONSULTATION = "consultation", "Consultation"
    DISCLOSURE = "disclosure", "Disclosure"
    COMBINATION = "combination", "Combination"
    ERASURE = "erasure", "Erasure"
    BREAK_GLASS = "break_glass", "Break-glass access"
    ACCESS_GRANT = "access_grant", "Access granted"
    # Sign-in, lockout, factors, tokens, roles, refused access: details["event"] says which.
    SECURITY = "security", "Security event"


class LedgerEntry(models.Model):
    """One s.62 record. Its position in id order is its Merkle leaf index."""

    recorded_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    actor_username = models.CharField(max_length=150)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    case_id = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=list)
    recipients = models.JSONField(default=list)
    justification = models.TextField(blank=True)
    details = models.JSONField(default=dict)
    leaf_hash = models.CharField(max_length=64)
    # The exact leaf input (ledger.canonical_bytes), kept so that `haven audit verify` can hash
    # stored bytes instead of re-encoding every row; PostgreSQL holds the columns equal to it
    # (copies.py, a CHECK constraint). NULL for entries written before it existed: those are
    # re-encoded from their columns as before. Never a second source of truth.
    canonical = models.BinaryField(null=True, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["actor_username", "recorded_at"], name="audit_ledge_actor_u_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_ledge_object__idx"),
            models.Index(fields=["action", "recorded_at"], name="audit_ledge_action_idx"),
            # Equality only. db_index=True also built a varchar_pattern_ops copy on PostgreSQL,
            # for LIKE searches nobody makes: one more random insert on every audited read.
            models.Index(fields=["case_id"], name="audit_ledge_case_id_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.actor_username} {self.action} {self.object_type}:{self.object_id}"


class Checkpoint(models.Model):
    """A signed (tree size, root hash) statement; append-only like the ledger.

    With an ``origin`` it is a C2SP signed note (``haven.audit.checkpoint``); without, a
    checkpoint signed before origins existed, in the older haven-ledger-checkpoint/v1 text."""

    origin = models.CharField(max_length=255, blank=True, default="")
    tree_size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)
    signed_at = models.CharField(max_length=40)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size} {self.root_hash[:12]}"


class Cosignature(models.Model):
    """A witness's C2SP cosignature/v1 on a checkpoint (signed note); append-only.

    Recorded only after it verified against the witness key configured in
    ``settings.LEDGER_WITNESSES``; ``haven audit verify`` checks it again against that pin."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="+")
    witness_name = models.CharField(max_length=255)
    key_hash = models.CharField(max_length=8)  # hex of the 4-byte cosignature/v1 key hash
    cosigned_at = models.PositiveBigIntegerField()  # the witness's signed time, Unix seconds
    signature = models.CharField(max_length=128)  # base64 of time (8 bytes) || signature
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"cosignature by {self.witness_name} on checkpoint #{self.checkpoint_id}"

"""Notifications, the contact methods they are announced through, and each delivery attempt."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from haven.vault.fields import EncryptedTextField


class AlertCategory(models.TextChoices):
    BREAK_GLASS = "break_glass", "Break-glass access"
    DUPLICATE = "duplicate", "Possible duplicate"
    ESCALATION = "escalation", "Escalated query"
    REMINDER = "reminder", "Reminder"
    TELEMETRY = "telemetry", "Telemetry alert"
    DELIVERY_FAILED = "delivery_failed", "Delivery failed"
    ACCESS = "access", "Access to a case"
    DECISION = "decision", "Decision awaiting you"
    ASSESSMENT = "assessment", "Risk assessment"
    SWAP = "swap", "Shift swap"
    ROTA = "rota", "On-call rota"
    DEADLINE = "deadline", "Statutory deadline approaching"
    SECURITY = "security", "Account security"
    GENERAL = "general", "General"


class Notification(models.Model):
    """One item in a person's inbox. `message` may name people: encrypted like any protected
    field. `category` and `reference` (a case or alert reference, never a name) are what may
    leave the system."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    category = models.CharField(
        max_length=30, choices=AlertCategory.choices, default=AlertCategory.GENERAL
    )
    reference = models.CharField(max_length=60, blank=True)
    message = EncryptedTextField()
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notif_user_unread_idx")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.reference}".strip()


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    NOTIFY_EMAIL = "notify_email", "E-mail (GOV.UK Notify)"
    NOTIFY_SMS = "notify_sms", "Text message (GOV.UK Notify)"
    WEBHOOK = "webhook", "Control-room webhook"


class ContactMethod(models.Model):
    """Where a person's alerts are announced. Unused until verified."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    address = EncryptedTextField()  # e-mail address, mobile number or webhook URL
    secret = EncryptedTextField(blank=True, default="")  # webhook HMAC key
    code_hash = models.CharField(max_length=128, blank=True)  # pending verification code
    code_expires_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} of {self.user}"


class DeliveryStatus(models.TextChoices):
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One attempt to announce one notification through one contact method."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    contact = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="+")
    attempt = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    error = models.CharField(max_length=300, blank=True)
    attempted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["attempted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "contact", "attempt"], name="unique_delivery_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt} of {self.notification_id}: {self.status}"

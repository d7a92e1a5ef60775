"""What may leave the system: category and reference only, never the message."""

from __future__ import annotations

from .models import AlertCategory, Notification


def outbound_text(notification: Notification) -> str:
    label = AlertCategory(notification.category).label
    reference = f" {notification.reference}" if notification.reference else ""
    return f"You have a new Haven alert: {label}{reference}, sign in to view"

"""Synthetic demo data for notifications: each demo account gets a verified e-mail address on
the demo mailbox (`haven mailbox`, started by `make run`), so alerts visibly leave Haven."""

from __future__ import annotations

from django.utils import timezone

from haven.accounts.models import User
from haven.audit.models import Action
from haven.concurrency.transactions import service

from .models import Channel, ContactMethod
from .services import record_contact_change

DEMO_MAIL_DOMAIN = "haven.invalid"


@service
def create_demo_contacts(users: list[User]) -> int:
    """A verified e-mail contact per account that has none; verified by the loader, not by a
    code, which only the demo may do (real contact methods go through add_contact)."""
    created = 0
    for user in users:
        if ContactMethod.objects.filter(user=user).exists():
            continue
        contact = ContactMethod.objects.create(
            user=user,
            channel=Channel.EMAIL,
            address=f"{user.username}@{DEMO_MAIL_DOMAIN}",
            verified_at=timezone.now(),
        )
        fields = ("channel", "address", "verified_at")
        record_contact_change(None, contact, Action.COLLECTION, "demo contact method", fields)
        created += 1
    return created

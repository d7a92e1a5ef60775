"""Reads: a person sees only their own notifications and contact methods."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service

from .models import AlertCategory, ContactMethod, Delivery, Notification


def unread_count(user: User) -> int:
    """For the header badge: a count, no protected text, so not ledgered."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@service
def inbox(user: User, *, unread_only: bool = False, category: str = "") -> QuerySet[Notification]:
    """The user's own notifications, newest first; the read of their texts is ledgered."""
    items = Notification.objects.filter(user=user)
    if unread_only:
        items = items.filter(read_at__isnull=True)
    if category in AlertCategory.values:
        items = items.filter(category=category)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="inbox",
        object_id=user.pk,
        fields=("message",),
        justification="own inbox read",
    )
    return items


def contact_methods(user: User) -> QuerySet[ContactMethod]:
    return ContactMethod.objects.filter(user=user)


def deliveries_of(notification: Notification) -> QuerySet[Delivery]:
    return Delivery.objects.filter(notification=notification)


def own_notification(user: User, notification_id: UUID | str) -> Notification:
    """The user's own notification; anyone else's answers 404, as if it did not exist."""
    try:
        return Notification.objects.get(pk=notification_id, user=user)
    except (Notification.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such notification") from exc


def own_contact(user: User, contact_id: UUID | str) -> ContactMethod:
    try:
        return ContactMethod.objects.get(pk=contact_id, user=user)
    except (ContactMethod.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such contact method") from exc

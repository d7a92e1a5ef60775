"""Writes: notify, mark read, contact methods and their verification, delivery attempts."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service

from . import channels, selectors
from .messages import outbound_text
from .models import AlertCategory, Channel, ContactMethod, Delivery, DeliveryStatus, Notification

CODE_MINUTES = 15


@service
def notify(user: User, category: str, reference: str, message: str, link: str = "") -> Notification:
    """Put `message` in `user`'s inbox and, once committed, announce it on their verified
    contact methods (with category and reference only)."""
    notification = Notification(
        user=user, category=AlertCategory(category), reference=reference, message=message, link=link
    )
    notification.save()
    contacts = list(verified_contacts(user).values_list("pk", flat=True))
    if contacts:
        transaction.on_commit(lambda: _enqueue_all(notification.pk, contacts))
    return notification


def notify_each(
    users: Iterable[User], category: str, reference: str, message: str, link: str = ""
) -> None:
    for user in users:
        notify(user, category, reference, message, link)


def verified_contacts(user: User):  # type: ignore[no-untyped-def]
    return ContactMethod.objects.filter(user=user, verified_at__isnull=False)


def _enqueue_all(notification_id: UUID, contact_ids: list[UUID]) -> None:
    from .tasks import deliver

    for contact_id in contact_ids:
        deliver.enqueue(str(notification_id), str(contact_id), 1)


@service
def mark_read(user: User, notification_id: UUID | str) -> Notification:
    notification = selectors.own_notification(user, notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        ledger.record(
            actor=user,
            action=Action.ALTERATION,
            object_type="notification",
            object_id=notification.pk,
            fields=("read_at",),
            justification="notification marked read",
        )
    return notification


@service
def mark_all_read(user: User) -> int:
    unread = list(Notification.objects.filter(user=user, read_at__isnull=True))
    now = timezone.now()
    for notification in unread:  # save(), not update(): the row holds an encrypted field
        notification.read_at = now
        notification.save(update_fields=["read_at"])
    if unread:
        ledger.record(
            actor=user,
            action=Action.ALTERATION,
            object_type="inbox",
            object_id=user.pk,
            fields=("read_at",),
            justification=f"{len(unread)} notifications marked read",
        )
    return len(unread)


# ------------------------------------------------------------------------ contact methods


def record_contact_change(
    actor: User | None,
    contact: ContactMethod,
    action: Action,
    justification: str,
    fields: Iterable[str] = (),
) -> None:
    """The ledger entry for one change to a contact method, with why it changed."""
    ledger.record(
        actor=actor,
        action=action,
        object_type="contact_method",
        object_id=contact.pk,
        fields=fields,
        justification=justification,
    )


def _clean_address(channel: str, address: str) -> str:
    address = address.strip()
    if not address:
        raise ValidationError({"address": "Enter the address"})
    if channel in (Channel.EMAIL, Channel.NOTIFY_EMAIL):
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError(
                {"address": "Enter an e-mail address like name@example.org"}
            ) from exc
    elif channel == Channel.NOTIFY_SMS:
        digits = address.replace(" ", "")
        if not (digits.startswith(("07", "+447")) and digits.lstrip("+").isdigit()):
            raise ValidationError({"address": "Enter a UK mobile number like 07700 900123"})
        address = digits
    elif channel == Channel.WEBHOOK:
        parts = urlsplit(address)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValidationError({"address": "Enter the webhook URL, starting https://"})
    return address


def add_contact(actor: User, channel: str, address: str, secret: str = "") -> ContactMethod:
    """Add an unverified contact method and send its check: a code by e-mail or text, a signed
    test ping to a webhook (verified at once when it answers 2xx).

    Not one transaction: the webhook is pinged before anything is stored, and the code leaves
    only after the contact is committed, so a slow channel never holds the database."""
    if channel not in Channel.values:
        raise ValidationError({"channel": "Choose how to be alerted"})
    address = _clean_address(channel, address)
    if channel == Channel.WEBHOOK:
        if not actor.has_role(Role.ADMINISTRATOR):
            raise PermissionDenied("Only administrators add control-room webhooks")
        if len(secret.strip()) < 16:
            raise ValidationError({"secret": "Enter a shared secret of at least 16 characters"})
        probe = ContactMethod(user=actor, channel=channel, address=address, secret=secret.strip())
        try:
            channels.send(probe, "Haven webhook test ping")
        except channels.DeliveryError as exc:
            raise ValidationError(
                {"address": f"The test ping failed ({exc}); nothing was added"}
            ) from exc
    return _store_contact(actor, channel, address, secret.strip())


@service
def _store_contact(actor: User, channel: str, address: str, secret: str) -> ContactMethod:
    contact = ContactMethod(user=actor, channel=channel, address=address, secret=secret)
    if channel == Channel.WEBHOOK:
        contact.verified_at = timezone.now()  # it answered the signed ping
    contact.save()
    record_contact_change(
        actor, contact, Action.COLLECTION, "contact method added", ("channel", "address")
    )
    if channel != Channel.WEBHOOK:
        _new_code(contact)
    return contact


def _new_code(contact: ContactMethod) -> None:
    """Store a fresh code's hash and send the code once this transaction has committed. A
    failure to send raises ValidationError to the caller; the contact stays, unverified."""
    code = f"{secrets.randbelow(10**6):06d}"
    contact.code_hash = make_password(code)
    contact.code_expires_at = timezone.now() + dt.timedelta(minutes=CODE_MINUTES)
    contact.save(update_fields=["code_hash", "code_expires_at"])
    transaction.on_commit(lambda: _send_code(contact, code))


def _send_code(contact: ContactMethod, code: str) -> None:
    try:
        channels.send(contact, f"Your Haven verification code is {code}", subject="Haven code")
    except channels.DeliveryError as exc:
        raise ValidationError(
            {"address": f"The code could not be sent ({exc}); try Resend code"}
        ) from exc


@service
def resend_code(actor: User, contact_id: UUID | str) -> ContactMethod:
    """A new code (the old one stops working) for a contact method not yet verified."""
    contact = selectors.own_contact(actor, contact_id)
    if contact.verified_at is not None:
        raise ValidationError({"code": "This contact method is already verified"})
    if contact.channel == Channel.WEBHOOK:
        raise ValidationError({"code": "Webhooks are verified by their test ping"})
    _new_code(contact)
    record_contact_change(
        actor, contact, Action.ALTERATION, "verification code resent", ("code_hash",)
    )
    return contact


@service
def verify_contact(actor: User, contact_id: UUID | str, code: str) -> ContactMethod:
    contact = selectors.own_contact(actor, contact_id)
    if contact.verified_at is not None:
        return contact
    expired = contact.code_expires_at is None or contact.code_expires_at < timezone.now()
    if expired or not contact.code_hash or not check_password(code.strip(), contact.code_hash):
        raise ValidationError({"code": "The code is wrong or has expired"})
    contact.verified_at = timezone.now()
    contact.code_hash = ""
    contact.save(update_fields=["verified_at", "code_hash"])
    record_contact_change(
        actor, contact, Action.ALTERATION, "contact method verified", ("verified_at",)
    )
    return contact


@service
def remove_contact(actor: User, contact_id: UUID | str) -> None:
    contact = selectors.own_contact(actor, contact_id)
    record_contact_change(actor, contact, Action.ERASURE, "contact method removed")
    contact.delete()


# ------------------------------------------------------------------------------- delivery


def backoff(attempt: int) -> dt.timedelta:
    """Delay before attempt `attempt + 1`: doubling from the configured base."""
    return dt.timedelta(seconds=settings.HAVEN_DELIVERY_BACKOFF_SECONDS * 2 ** (attempt - 1))


def attempt_delivery(notification_id: UUID | str, contact_id: UUID | str, attempt: int) -> bool:
    """One attempt, recorded. True when another attempt should follow (after `backoff`).

    The channel is called outside any transaction (a slow SMTP server must not hold a database
    lock); only the record of the attempt is written in one."""
    notification = Notification.objects.filter(pk=notification_id).first()
    contact = ContactMethod.objects.filter(pk=contact_id, verified_at__isnull=False).first()
    if notification is None or contact is None:
        return False  # removed since: nothing to announce, nowhere to announce it
    error = ""
    try:
        channels.send(contact, outbound_text(notification))
    except channels.DeliveryError as exc:
        error = str(exc)[:300] or "failed"
    return _record_attempt(notification, contact, attempt, error)


@service
def _record_attempt(
    notification: Notification, contact: ContactMethod, attempt: int, error: str
) -> bool:
    Delivery.objects.create(
        notification=notification,
        contact=contact,
        attempt=attempt,
        status=DeliveryStatus.FAILED if error else DeliveryStatus.SENT,
        error=error,
    )
    if not error:
        return False
    if attempt < settings.HAVEN_DELIVERY_MAX_ATTEMPTS:
        return True
    _alert_delivery_failed(notification, contact, attempt)
    return False


def _alert_delivery_failed(
    notification: Notification, contact: ContactMethod, attempts: int
) -> None:
    """Tell administrators and technical supervisors, without the failing message's content.
    A failed failure alert is not alerted again (no loop)."""
    if notification.category == AlertCategory.DELIVERY_FAILED:
        return
    watchers = User.objects.filter(is_active=True).exclude(pk=notification.user_id)
    text = (
        f"{contact.get_channel_display()} delivery of a {notification.get_category_display()} "
        f"alert {notification.reference} to {notification.user} failed after {attempts} attempts."
    )
    for watcher in watchers:
        if watcher.has_role(Role.ADMINISTRATOR, Role.TECHNICAL_SUPERVISOR):
            notify(watcher, AlertCategory.DELIVERY_FAILED, notification.reference, text, "")

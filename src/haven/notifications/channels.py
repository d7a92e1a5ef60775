"""The three ways out: SMTP (Django's e-mail backend), GOV.UK Notify, a signed webhook.

Each sender takes only the outbound text, never a notification, so no message content can
reach a channel by mistake. A failure raises `DeliveryError` with a short reason."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from notifications_python_client.notifications import NotificationsAPIClient

from .models import Channel, ContactMethod

SIGNATURE_HEADER = "X-Haven-Signature"


class DeliveryError(Exception):
    pass


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(contact: ContactMethod, text: str, *, subject: str = "Haven alert") -> None:
    try:
        if contact.channel == Channel.EMAIL:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [contact.address])
        elif contact.channel in (Channel.NOTIFY_EMAIL, Channel.NOTIFY_SMS):
            _send_notify(contact, text)
        elif contact.channel == Channel.WEBHOOK:
            _post_webhook(contact.address, contact.secret, {"text": text})
        else:
            raise DeliveryError(f"unknown channel {contact.channel}")
    except DeliveryError:
        raise
    except Exception as exc:  # any transport failure is one failed attempt, never a crash
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300]) from exc


def _send_notify(contact: ContactMethod, text: str) -> None:
    if not settings.HAVEN_NOTIFY_API_KEY:
        raise DeliveryError("GOV.UK Notify is not configured (HAVEN_NOTIFY_API_KEY)")
    client = NotificationsAPIClient(
        settings.HAVEN_NOTIFY_API_KEY,
        base_url=settings.HAVEN_NOTIFY_BASE_URL,
        timeout=int(settings.HAVEN_DELIVERY_TIMEOUT_SECONDS),
    )
    personalisation = {"message": text}
    if contact.channel == Channel.NOTIFY_SMS:
        client.send_sms_notification(
            phone_number=contact.address,
            template_id=settings.HAVEN_NOTIFY_SMS_TEMPLATE_ID,
            personalisation=personalisation,
        )
    else:
        client.send_email_notification(
            email_address=contact.address,
            template_id=settings.HAVEN_NOTIFY_EMAIL_TEMPLATE_ID,
            personalisation=personalisation,
        )


def _post_webhook(url: str, secret: str, payload: dict[str, str]) -> None:
    body = json.dumps(payload, sort_keys=True).encode()
    request = urllib.request.Request(  # noqa: S310 (http(s) only: checked when added)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body)},
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 (http(s) only: checked when added)
            request, timeout=settings.HAVEN_DELIVERY_TIMEOUT_SECONDS
        ) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook answered {exc.code}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook answered {status}")

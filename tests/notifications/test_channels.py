"""Delivery through real local servers: SMTP, a GOV.UK Notify stand-in, a signed webhook.
Only "You have a new Haven alert: <category> <reference>, sign in to view" ever leaves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from haven.accounts.roles import Role
from haven.audit.models import Action, LedgerEntry
from haven.concurrency.transactions import service_transaction
from haven.notifications import services
from haven.notifications.models import (
    AlertCategory,
    Channel,
    ContactMethod,
    Delivery,
    DeliveryStatus,
    Notification,
)
from tests.factories import UserFactory, force_sign_in
from tests.notifications.servers import (
    NOTIFY_API_KEY,
    body_of,
    notify_server,
    smtp_server,
    webhook_receiver,
)
from tests.notifications.test_inbox import api_client

pytestmark = pytest.mark.django_db

NAME = "Persephone Quillfeather"
SECRET = "control-room-shared-secret-0001"
EXPECTED = "You have a new Haven alert: Break-glass access HVN-2026-00042, sign in to view"


@pytest.fixture
def smtp(settings: Any) -> Iterator[list[Any]]:
    with smtp_server() as (port, messages):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        yield messages


@pytest.fixture
def notify(settings: Any) -> Iterator[Any]:
    with notify_server() as (url, received):
        settings.HAVEN_NOTIFY_API_KEY = NOTIFY_API_KEY
        settings.HAVEN_NOTIFY_BASE_URL = url
        settings.HAVEN_NOTIFY_SMS_TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
        settings.HAVEN_NOTIFY_EMAIL_TEMPLATE_ID = "a6c6c2f3-5f5e-4a3b-8a7c-1d2e3f4a5b6c"
        yield received


@pytest.fixture
def webhook() -> Iterator[tuple[str, Any]]:
    with webhook_receiver(SECRET) as served:
        yield served


def verified(user, channel: str, address: str, secret: str = "") -> ContactMethod:  # type: ignore[no-untyped-def]
    contact = ContactMethod(
        user=user, channel=channel, address=address, secret=secret, verified_at=timezone.now()
    )
    contact.save()
    return contact


def alert(user, capture) -> Notification:  # type: ignore[no-untyped-def]
    with capture(execute=True), service_transaction():
        return services.notify(
            user,
            AlertCategory.BREAK_GLASS,
            "HVN-2026-00042",
            f"{NAME} of 12 Lantern Row used break-glass access",
            "/cases/",
        )


def test_email_by_smtp_says_only_category_and_reference(smtp, django_capture_on_commit_callbacks):
    user = UserFactory()
    verified(user, Channel.EMAIL, "officer@example.org")
    note = alert(user, django_capture_on_commit_callbacks)
    (message,) = smtp
    assert message["X-Rcpt"] == "officer@example.org"
    assert body_of(message).strip() == EXPECTED
    assert NAME not in message.as_string() and "Lantern" not in message.as_string()
    (delivery,) = Delivery.objects.filter(notification=note)
    assert (delivery.status, delivery.attempt) == (DeliveryStatus.SENT, 1)


def test_sms_and_email_through_notify(notify, django_capture_on_commit_callbacks):
    user = UserFactory()
    verified(user, Channel.NOTIFY_SMS, "07700900123")
    verified(user, Channel.NOTIFY_EMAIL, "officer@example.org")
    note = alert(user, django_capture_on_commit_callbacks)
    by_path = {r["path"]: r for r in notify.requests}
    assert by_path["/v2/notifications/sms"]["phone_number"] == "07700900123"
    assert by_path["/v2/notifications/email"]["email_address"] == "officer@example.org"
    for request in by_path.values():
        assert request["personalisation"] == {"message": EXPECTED}
    assert all(NAME.encode() not in raw for raw in notify.raw)
    assert Delivery.objects.filter(notification=note, status=DeliveryStatus.SENT).count() == 2


def test_signed_webhook(webhook, django_capture_on_commit_callbacks):
    url, received = webhook
    user = UserFactory()
    verified(user, Channel.WEBHOOK, url, SECRET)
    alert(user, django_capture_on_commit_callbacks)
    assert received.requests == [{"text": EXPECTED}]
    assert all(NAME.encode() not in raw for raw in received.raw)


def test_unverified_contact_methods_get_nothing(smtp, django_capture_on_commit_callbacks):
    user = UserFactory()
    ContactMethod(user=user, channel=Channel.EMAIL, address="new@example.org").save()
    note = alert(user, django_capture_on_commit_callbacks)
    assert smtp == [] and not Delivery.objects.filter(notification=note).exists()


def test_failures_are_retried_with_backoff_then_alerted_without_the_content(
    webhook, settings, django_capture_on_commit_callbacks
):
    settings.HAVEN_DELIVERY_MAX_ATTEMPTS = 3
    url, received = webhook
    received.status = 500
    user = UserFactory()
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    supervisor = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    bystander = UserFactory(roles=[Role.PROTECTION_OFFICER])
    verified(user, Channel.WEBHOOK, url, SECRET)
    note = alert(user, django_capture_on_commit_callbacks)
    attempts = Delivery.objects.filter(notification=note)
    assert [(d.attempt, d.status) for d in attempts] == [(n, "failed") for n in (1, 2, 3)]
    assert "500" in attempts[0].error
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3)] == [
        settings.HAVEN_DELIVERY_BACKOFF_SECONDS * f for f in (1, 2, 4)
    ]
    warned = Notification.objects.filter(category=AlertCategory.DELIVERY_FAILED)
    assert {w.user_id for w in warned} == {admin.pk, supervisor.pk}
    assert not bystander.notifications.exists()
    for warning in warned:
        assert warning.reference == "HVN-2026-00042"
        assert NAME not in warning.message and "Lantern" not in warning.message


def test_verify_an_email_address_with_the_code_it_was_sent(
    smtp, django_capture_on_commit_callbacks
):
    user = UserFactory()
    client = force_sign_in(Client(), user)
    with django_capture_on_commit_callbacks() as after_commit:
        response = client.post(
            "/accounts/contact-methods/", {"channel": "email", "address": "me@example.org"}
        )
    assert response.status_code == 302
    assert smtp == []  # nothing leaves before the contact is committed
    for callback in after_commit:
        callback()
    contact = ContactMethod.objects.get(user=user)
    assert contact.verified_at is None
    (message,) = smtp
    code = re.search(r"\b(\d{6})\b", body_of(message)).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    client.post(f"/accounts/contact-methods/{contact.pk}/verify/", {"code": wrong})
    contact.refresh_from_db()
    assert contact.verified_at is None
    client.post(f"/accounts/contact-methods/{contact.pk}/verify/", {"code": code})
    contact.refresh_from_db()
    assert contact.verified_at is not None


def test_bad_address_shows_a_field_error_and_adds_nothing(smtp):
    client = force_sign_in(Client(), UserFactory())
    response = client.post(
        "/accounts/contact-methods/", {"channel": "notify_sms", "address": "not a number"}
    )
    assert response.status_code == 200
    assert "Enter a UK mobile number" in response.content.decode()
    assert not ContactMethod.objects.exists() and smtp == []


def test_only_administrators_add_a_webhook_and_its_signed_ping_verifies_it(webhook):
    url, received = webhook
    officer = force_sign_in(Client(), UserFactory())
    form = {"channel": "webhook", "address": url, "secret": SECRET}
    response = officer.post("/accounts/contact-methods/", form)
    assert response.status_code == 200 and not ContactMethod.objects.exists()
    admin = force_sign_in(Client(), UserFactory(roles=[Role.ADMINISTRATOR]))
    assert admin.post("/accounts/contact-methods/", form).status_code == 302
    assert ContactMethod.objects.get().verified_at is not None
    assert received.requests == [{"text": "Haven webhook test ping"}]


def test_a_webhook_that_does_not_answer_2xx_is_not_added(webhook):
    url, received = webhook
    received.status = 500
    admin = force_sign_in(Client(), UserFactory(roles=[Role.ADMINISTRATOR]))
    form = {"channel": "webhook", "address": url, "secret": SECRET}
    response = admin.post("/accounts/contact-methods/", form)
    assert response.status_code == 200 and "test ping failed" in response.content.decode()
    assert not ContactMethod.objects.exists()


def test_addresses_are_encrypted_at_rest():
    from django.db import connection

    contact = verified(UserFactory(), Channel.EMAIL, "hidden.person@example.org")
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM notifications_contactmethod")
        (stored,) = cursor.fetchone()
    assert "hidden.person" not in stored and contact.address == "hidden.person@example.org"


def test_resend_code_replaces_the_code_and_the_api_verifies_with_the_new_one(
    smtp, django_capture_on_commit_callbacks
):
    user = UserFactory()
    client = force_sign_in(Client(), user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/contact-methods/", {"channel": "email", "address": "me@example.org"})
    contact = ContactMethod.objects.get(user=user)
    first = re.search(r"\b(\d{6})\b", body_of(smtp[0])).group(1)  # type: ignore[union-attr]
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/accounts/contact-methods/{contact.pk}/resend/")
    assert answer.status_code == 302 and len(smtp) == 2
    second = re.search(r"\b(\d{6})\b", body_of(smtp[1])).group(1)  # type: ignore[union-attr]
    api = api_client(user)
    if first != second:
        refused = api.post(
            f"/api/notifications/contact-methods/{contact.pk}/verify",
            {"code": first},
            content_type="application/json",
        )
        assert refused.status_code == 422
    accepted = api.post(
        f"/api/notifications/contact-methods/{contact.pk}/verify",
        {"code": second},
        content_type="application/json",
    )
    assert accepted.status_code == 200 and accepted.json()["verified"] is True
    listed = api.get("/api/notifications/contact-methods").json()
    assert [c["address"] for c in listed] == ["me@example.org"]
    other = api_client(UserFactory())
    assert other.get("/api/notifications/contact-methods").json() == []
    assert other.delete(f"/api/notifications/contact-methods/{contact.pk}").status_code == 404
    assert api.delete(f"/api/notifications/contact-methods/{contact.pk}").status_code == 204
    assert not ContactMethod.objects.filter(pk=contact.pk).exists()


def test_every_change_to_a_contact_method_is_ledgered_against_it():
    user = UserFactory()
    contact = services.add_contact(user, Channel.EMAIL, "officer@example.org")
    services.resend_code(user, contact.pk)
    services.remove_contact(user, contact.pk)
    entries = LedgerEntry.objects.filter(object_type="contact_method", object_id=str(contact.pk))
    assert [(e.action, e.fields, e.actor_id) for e in entries.order_by("pk")] == [
        (Action.COLLECTION, ["address", "channel"], user.pk),
        (Action.ALTERATION, ["code_hash"], user.pk),
        (Action.ERASURE, [], user.pk),
    ]

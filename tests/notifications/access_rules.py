"""Access rules for the inbox and contact methods (see tests/access/rules.py).

Every signed-in user has their own inbox and contact methods. The objects the matrix names
belong to a third user who is no actor: every actor must get 404 for them, and their text
must never show anywhere (it is a secret of the world)."""

from __future__ import annotations

import uuid
from typing import Any

from haven.concurrency.transactions import service_transaction
from haven.notifications import services
from haven.notifications.models import AlertCategory, Channel, ContactMethod
from tests.access.rules import Actor, Rule, anyone
from tests.factories import UserFactory

OTHERS_MESSAGE = "Zebedee Otherinbox was moved to a new address"


def someone_elses(actor: Actor, inside: bool) -> bool:
    return False


WEB_POLICY: dict[str, Rule] = {
    "notifications:inbox": anyone,
    "notifications:badge": anyone,
    "notifications:mark_all_read": anyone,
    "notifications:mark_read": someone_elses,
    "contacts:list": anyone,
    "contacts:verify": someone_elses,
    "contacts:resend": someone_elses,
    "contacts:remove": someone_elses,
}

API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/notifications/"): anyone,
    ("POST", "/api/notifications/read-all"): anyone,
    ("POST", "/api/notifications/{notification_id}/read"): someone_elses,
    ("GET", "/api/notifications/contact-methods"): anyone,
    ("POST", "/api/notifications/contact-methods"): anyone,
    ("POST", "/api/notifications/contact-methods/{contact_id}/verify"): someone_elses,
    ("POST", "/api/notifications/contact-methods/{contact_id}/resend"): someone_elses,
    ("DELETE", "/api/notifications/contact-methods/{contact_id}"): someone_elses,
}

PARAMS = {
    "notification_id": lambda world, inside: (
        str(world["others_notification"]) if inside else str(uuid.uuid4())
    ),
    "contact_id": lambda world, inside: (
        str(world["others_contact"]) if inside else str(uuid.uuid4())
    ),
}

SAMPLE_PAYLOADS = {
    ("POST", "/api/notifications/contact-methods/{contact_id}/verify"): lambda world: {
        "code": "123456"
    },
}


def build(world: dict[str, Any]) -> None:
    other = UserFactory()
    with service_transaction():
        note = services.notify(other, AlertCategory.GENERAL, "HVN-2026-09999", OTHERS_MESSAGE)
    contact = ContactMethod(user=other, channel=Channel.EMAIL, address="zebedee@example.org")
    contact.save()
    world["others_notification"] = note.pk
    world["others_contact"] = contact.pk
    world["secrets_outside"] += [OTHERS_MESSAGE, "zebedee@example.org"]

"""The inbox over the API: the token's own notifications only (another's answers 404)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from haven.accounts.types import AuthenticatedRequest
from haven.ui.apihelpers import QueryFilters, attempt

from . import selectors, services
from .models import AlertCategory, Channel, ContactMethod, Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: UUID
    category: AlertCategory
    reference: str
    message: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxFilters(QueryFilters):
    unread: bool = False
    category: AlertCategory | None = None
    page: int = Field(1, ge=1)


class InboxOut(Schema):
    unread_count: int
    page: int
    pages: int
    items: list[NotificationOut]


class ReadAllOut(Schema):
    marked_read: int


@router.get("/notifications/", response=InboxOut, summary="Your notifications, newest first")
def list_notifications(
    request: AuthenticatedRequest, filters: Query[InboxFilters]
) -> dict[str, object]:
    items = selectors.inbox(
        request.user, unread_only=filters.unread, category=filters.category or ""
    )
    page = Paginator(items, 50).get_page(filters.page)
    return {
        "unread_count": selectors.unread_count(request.user),
        "page": page.number,
        "pages": page.paginator.num_pages,
        "items": list(page.object_list),
    }


@router.post(
    "/notifications/{notification_id}/read", response=NotificationOut, summary="Mark one read"
)
def mark_read(request: AuthenticatedRequest, notification_id: UUID) -> Notification:
    return services.mark_read(request.user, notification_id)


@router.post("/notifications/read-all", response=ReadAllOut, summary="Mark all read")
def mark_all_read(request: AuthenticatedRequest) -> dict[str, int]:
    return {"marked_read": services.mark_all_read(request.user)}


# ------------------------------------------------------------------------ contact methods


class ContactMethodOut(Schema):
    id: UUID
    channel: Channel
    address: str
    verified: bool
    created_at: dt.datetime

    @staticmethod
    def resolve_verified(contact: ContactMethod) -> bool:
        return contact.verified_at is not None


class ContactMethodIn(Schema):
    channel: Channel
    address: str = Field(max_length=300)
    secret: str = Field("", max_length=200, description="Webhooks only: the HMAC key")


class VerifyIn(Schema):
    code: str = Field(max_length=12)


@router.get(
    "/notifications/contact-methods",
    response=list[ContactMethodOut],
    summary="Your contact methods",
)
def list_contact_methods(request: AuthenticatedRequest) -> list[ContactMethod]:
    return list(selectors.contact_methods(request.user))


@router.post(
    "/notifications/contact-methods",
    response={201: ContactMethodOut},
    summary="Add a contact method; a code is sent to it (a webhook gets a signed test ping)",
)
def add_contact_method(request: AuthenticatedRequest, body: ContactMethodIn) -> Status[object]:
    def add() -> ContactMethod:
        try:
            return services.add_contact(request.user, body.channel, body.address, body.secret)
        except PermissionDenied as refused:
            raise HttpError(403, str(refused)) from refused

    return Status(201, attempt(add))


@router.post(
    "/notifications/contact-methods/{contact_id}/verify",
    response=ContactMethodOut,
    summary="Verify a contact method with the code it was sent",
)
def verify_contact_method(
    request: AuthenticatedRequest, contact_id: UUID, body: VerifyIn
) -> ContactMethod:
    return attempt(lambda: services.verify_contact(request.user, contact_id, body.code))


@router.post(
    "/notifications/contact-methods/{contact_id}/resend",
    response=ContactMethodOut,
    summary="Send a new verification code (the old one stops working)",
)
def resend_contact_code(request: AuthenticatedRequest, contact_id: UUID) -> ContactMethod:
    return attempt(lambda: services.resend_code(request.user, contact_id))


@router.delete(
    "/notifications/contact-methods/{contact_id}",
    response={204: None},
    summary="Remove a contact method",
)
def remove_contact_method(request: AuthenticatedRequest, contact_id: UUID) -> Status[None]:
    services.remove_contact(request.user, contact_id)
    return Status(204, None)

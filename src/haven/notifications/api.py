"""The inbox over the API: the token's own notifications only (another's answers 404)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.core.paginator import Paginator
from ninja import Field, Query, Router, Schema

from haven.accounts.types import AuthenticatedRequest

from . import selectors, services
from .models import AlertCategory, Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: UUID
    category: AlertCategory
    reference: str
    message: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxFilters(Schema):
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

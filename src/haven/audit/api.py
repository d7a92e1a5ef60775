from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from haven.accounts.types import AuthenticatedRequest
from haven.ui.apihelpers import PageOf, page_body

from .models import Action
from .selectors import LedgerSearch, search_ledger

router = Router(tags=["audit"])


class EntryOut(Schema):
    id: int
    recorded_at: datetime
    actor_username: str
    action: Action
    object_type: str
    object_id: str
    case_id: str
    fields: list[str]
    recipients: list[str]
    justification: str
    leaf_hash: str


class EntryFilters(Schema):
    username: str = ""
    object_id: str = ""
    action: Action | Literal[""] = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = Field(1, ge=1)


@router.get(
    "/audit/entries", response=PageOf[EntryOut], summary="Search the audit ledger (auditors)"
)
def entries(request: AuthenticatedRequest, filters: Query[EntryFilters]) -> dict[str, Any]:
    user = request.user
    search = LedgerSearch(**filters.dict(exclude={"page"}))
    try:
        page = search_ledger(user, search, filters.page)
    except PermissionDenied as denied:
        raise HttpError(403, "Only auditors search the ledger") from denied
    return page_body(page)

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from haven.accounts.types import AuthenticatedRequest
from haven.ui.apihelpers import PageOf, QueryFilters, page_body

from . import ledger
from .models import Action, LedgerEntry
from .selectors import LedgerSearch, open_entry, search_ledger

router = Router(tags=["audit"])


class _EntryColumns(Schema):
    """The columns every answer about a ledger entry carries, in their order."""

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


class EntryOut(_EntryColumns):
    sealed: bool
    leaf_hash: str

    @staticmethod
    def resolve_sealed(entry: LedgerEntry) -> bool:
        return ledger.is_sealed(entry)


class OpenedEntryOut(_EntryColumns):
    details: dict[str, Any]
    sealed: bool
    problem: str
    leaf_hash: str


class EntryFilters(QueryFilters):
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


@router.get(
    "/audit/entries/{entry_id}",
    response=OpenedEntryOut,
    summary="One ledger entry with its sealed reason opened (auditors; the opening is ledgered)",
)
def entry(request: AuthenticatedRequest, entry_id: int) -> dict[str, Any]:
    try:
        opened = open_entry(request.user, entry_id)
    except PermissionDenied as denied:
        raise HttpError(403, "Only auditors open ledger entries") from denied
    entry = opened.entry
    return {
        "id": entry.pk,
        "recorded_at": entry.recorded_at,
        "actor_username": entry.actor_username,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "case_id": entry.case_id,
        "fields": entry.fields,
        "recipients": entry.recipients,
        "justification": opened.justification,
        "details": opened.details,
        "sealed": opened.sealed,
        "problem": opened.problem,
        "leaf_hash": entry.leaf_hash,
    }

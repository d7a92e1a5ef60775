"""Ledger search: auditors only (DPA 2018 s.62(4) limits what the logs may be used for)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.concurrency.transactions import service

from . import ledger
from .models import Action, LedgerEntry

PAGE_SIZE = 50


@dataclass(frozen=True)
class LedgerSearch:
    username: str = ""
    object_id: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def require_auditor(user: User) -> None:
    if not user.is_authenticated or not user.has_role(Role.AUDITOR):
        raise PermissionDenied("Only auditors search the ledger")


def filtered_entries(search: LedgerSearch) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.all()
    if search.username:
        entries = entries.filter(actor_username=search.username.strip())
    if search.object_id:
        value = search.object_id.strip()
        entries = entries.filter(object_id=value) | entries.filter(case_id=value)
    if search.action:
        entries = entries.filter(action=search.action)
    zone = timezone.get_current_timezone()
    if search.date_from:
        entries = entries.filter(
            recorded_at__gte=datetime.combine(search.date_from, time.min, zone)
        )
    if search.date_to:
        entries = entries.filter(recorded_at__lte=datetime.combine(search.date_to, time.max, zone))
    return entries.order_by("-id")


@service
def search_ledger(
    user: User, search: LedgerSearch, page_number: int | str | None
) -> Page[LedgerEntry]:
    require_auditor(user)
    page = Paginator(filtered_entries(search), PAGE_SIZE).get_page(page_number)
    page.object_list = list(page.object_list)  # the page as it stood before this search's entry
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="ledger",
        object_id="search",
        justification="audit: verifying lawfulness of processing (DPA 2018 s.62(4))",
        details={k: str(v) for k, v in search.__dict__.items() if v},
    )
    return page

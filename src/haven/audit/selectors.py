"""Ledger search: auditors only (DPA 2018 s.62(4) limits what the logs may be used for)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.concurrency import references
from haven.concurrency.transactions import service
from haven.vault.crypto import VaultError

from . import ledger
from .models import Action, LedgerEntry

PAGE_SIZE = 50
AUDIT_JUSTIFICATION = "audit: verifying lawfulness of processing (DPA 2018 s.62(4))"


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


def object_id_searched(text: str) -> str:
    """Auditors type references (HVN-2026-00052), which they can read without opening the
    case; the ledger stores ids, so a reference is searched as its object's id."""
    resolved = references.resolve(text)
    return str(resolved[1]) if resolved else text.strip()


def filtered_entries(search: LedgerSearch) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.all()
    if search.username:
        entries = entries.filter(actor_username=search.username.strip())
    if search.object_id:
        value = object_id_searched(search.object_id)
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
        justification=AUDIT_JUSTIFICATION,
        details={k: str(v) for k, v in search.__dict__.items() if v},
    )
    return page


@dataclass(frozen=True)
class OpenedEntry:
    """A ledger entry with its sealed justification and details opened for an auditor."""

    entry: LedgerEntry
    justification: str
    details: dict[str, Any] = field(default_factory=dict)
    sealed: bool = False
    problem: str = ""


@service
def open_entry(user: User, entry_id: int) -> OpenedEntry:
    """One entry, its sealed free text decrypted: auditors only, and the opening is ledgered
    (so the record of who read which reasons is itself tamper-evident)."""
    require_auditor(user)
    entry = LedgerEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise Http404("No such ledger entry")
    problem = ""
    try:
        opened = ledger.open_sealed(entry)
    except VaultError as error:  # altered or moved token: say so, the verifier names the entry
        opened, problem = {}, f"The sealed text cannot be opened: {error}"
    clear_details = {k: v for k, v in entry.details.items() if k != ledger.SEALED_KEY}
    sealed = ledger.is_sealed(entry)
    # Ledgered even when nothing was sealed: a legacy entry's clear reason is as sensitive.
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="ledger_entry",
        object_id=entry.pk,
        case_id=entry.case_id,
        fields=sorted(opened),
        justification=AUDIT_JUSTIFICATION,
    )
    return OpenedEntry(
        entry=entry,
        justification=opened.get("justification", entry.justification),
        details={**clear_details, **opened.get("details", {})},
        sealed=sealed,
        problem=problem,
    )

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from haven.accounts.roles import Module
from haven.accounts.types import AuthenticatedRequest
from haven.ui.helpers import query_without_page

from .forms import LedgerSearchForm
from .selectors import LedgerSearch, open_entry, search_ledger


def ledger_search(request: AuthenticatedRequest) -> HttpResponse:
    form = LedgerSearchForm(request.GET or None)
    search = LedgerSearch(**form.cleaned_data) if form.is_valid() else LedgerSearch()
    user = request.user
    page = search_ledger(user, search, request.GET.get("page"))
    return render(
        request,
        "audit/ledger.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "nav_active": Module.AUDIT,
        },
    )


def ledger_entry(request: AuthenticatedRequest, entry_id: int) -> HttpResponse:
    """One entry with its sealed reason and details opened; the opening is itself ledgered."""
    opened = open_entry(request.user, entry_id)
    return render(request, "audit/entry.html", {"opened": opened, "nav_active": Module.AUDIT})

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from haven.accounts.roles import Module
from haven.accounts.types import AuthenticatedRequest
from haven.ui.helpers import query_without_page

from .forms import LedgerSearchForm
from .selectors import LedgerSearch, open_entry, search_ledger
from .witnessing import newest_note_checkpoint, published_note


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


@login_not_required
@require_GET
def published_checkpoint(request: HttpRequest) -> HttpResponse:
    """The newest checkpoint as a C2SP signed note with its witnesses' cosignatures.

    Public on purpose: it holds the log's name, a size and a hash, nothing personal.  Anyone
    may keep a copy and later run `haven audit verify --trusted-checkpoint` (or haven-verify)
    against it: a ledger rolled back or rewritten since then no longer matches."""
    checkpoint = newest_note_checkpoint()
    if checkpoint is None:
        return HttpResponse(
            "no signed checkpoint yet\n", status=404, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(published_note(checkpoint), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response

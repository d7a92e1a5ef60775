from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haven.access.decorators import module_required
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.ui.helpers import query_without_page

from .forms import LedgerSearchForm
from .selectors import LedgerSearch, search_ledger


@module_required(Module.AUDIT)
def ledger_search(request: HttpRequest) -> HttpResponse:
    form = LedgerSearchForm(request.GET or None)
    search = LedgerSearch(**form.cleaned_data) if form.is_valid() else LedgerSearch()
    user: User = request.user  # type: ignore[assignment]
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

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haven.access.decorators import module_required
from haven.accounts.roles import Module


@module_required(Module.PROTECTION)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "risk/home.html", {"nav_active": Module.PROTECTION})

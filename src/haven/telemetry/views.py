from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haven.access.decorators import module_required
from haven.accounts.roles import Module


@module_required(Module.OPERATIONS)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "telemetry/home.html", {"nav_active": Module.OPERATIONS})

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from haven.accounts.roles import Module

MODULE_URLS = {
    Module.PROTECTION: "cases:list",
    Module.OPERATIONS: "equipment:home",
    Module.OVERSIGHT: "oversight:home",
    Module.AUDIT: "audit:ledger",
    Module.ADMINISTRATION: "administration:accounts",
}


def shell(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    modules = user.modules if user is not None and user.is_authenticated else []
    return {
        "nav_modules": [
            {"code": code, "label": Module(code).label, "url": reverse(MODULE_URLS[Module(code)])}
            for code in modules
        ],
        "classification": "OFFICIAL",
        "classification_css": "official",
    }

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from haven.accounts.roles import Module, Role
from haven.runtime.health import down_parts_cached

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
        "down_parts": _down_parts(user),
        "nav_modules": [
            {"code": code, "label": Module(code).label, "url": reverse(MODULE_URLS[Module(code)])}
            for code in modules
        ],
        "classification": "OFFICIAL",
        "classification_css": "official",
    }


def _down_parts(user: object) -> list[str]:
    """Administrators (only) are told which parts of Haven are down."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if not user.has_role(Role.ADMINISTRATOR):  # type: ignore[attr-defined]
        return []
    return down_parts_cached()

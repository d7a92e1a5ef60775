from __future__ import annotations

from django.conf import settings
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
        "nav_modules": _navigation(modules),
        "classification": "OFFICIAL",
        "classification_css": "official",
        "session_timeout": _session_timeout(),
    }


def _navigation(modules: list[str]) -> list[dict[str, str]]:
    """One item per module the user's roles open; protection also gets Risk beside it, since
    threat-to-life work is a daily task there and not a page inside one case."""
    items = []
    for code in modules:
        items.append(
            {"code": code, "label": Module(code).label, "url": reverse(MODULE_URLS[Module(code)])}
        )
        if code == Module.PROTECTION:
            items.append({"code": "risk", "label": "Risk", "url": reverse("risk:home")})
    return items


def _session_timeout() -> dict[str, int]:
    """For the timeout warning: activity is stamped at a resolution, so the server may end a
    session up to that much before the page's count; the page counts that much less."""
    return {
        "idle_seconds": settings.SESSION_IDLE_SECONDS
        - settings.SESSION_ACTIVITY_RESOLUTION_SECONDS,
        "warning_seconds": settings.SESSION_WARNING_SECONDS,
        "idle_minutes": settings.SESSION_IDLE_SECONDS // 60,
    }


def _down_parts(user: object) -> list[str]:
    """Administrators (only) are told which parts of Haven are down."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if not user.has_role(Role.ADMINISTRATOR):  # type: ignore[attr-defined]
        return []
    return down_parts_cached()

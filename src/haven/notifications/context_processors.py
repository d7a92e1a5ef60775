from __future__ import annotations

from django.http import HttpRequest

from haven.accounts.types import is_authenticated, is_verified

from . import selectors


def unread(request: HttpRequest) -> dict[str, int]:
    """The header badge's count on every page of a fully signed-in user."""
    if not hasattr(request, "user") or not is_authenticated(request) or not is_verified(request):
        return {}
    return {"unread_notifications": selectors.unread_count(request.user)}

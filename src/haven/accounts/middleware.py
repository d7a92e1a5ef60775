"""Every view needs a fully signed-in (password + TOTP) session that is fresh and current,
unless it is declared public with Django's `login_not_required` (see `haven.access.gates`).

The check runs on the resolved view, not on path prefixes: a view added anywhere, under
`/api/` too, is closed until it is declared public. The API's operations are declared so by
`gates.api_urls`, because their token auth decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from haven.accounts.sessions import LAST_SEEN, SIGNED_IN_AT
from haven.accounts.types import AuthenticatedRequest, is_authenticated, is_verified

EPOCH = "haven_session_epoch"


def passive_poll(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that a page polls by itself (the unread badge): it is checked like any
    other, but is not activity, so an open tab does not keep an idle session alive."""
    view.passive_poll = True  # type: ignore[attr-defined]
    return view


class SessionGuardMiddleware(LoginRequiredMiddleware):
    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponseBase | None:
        if not getattr(view_func, "login_required", True):
            return None
        if not is_authenticated(request) or not is_verified(request):
            return self.handle_no_permission(request, view_func)
        reason = self.stale_reason(request)
        if reason:
            logout(request)
            messages.info(request, reason)
            return self.handle_no_permission(request, view_func)
        if not getattr(view_func, "passive_poll", False):
            self.stamp_activity(request)
        return None

    @staticmethod
    def stamp_activity(request: HttpRequest) -> None:
        now = int(timezone.now().timestamp())
        last_seen = request.session.get(LAST_SEEN)
        if last_seen is None or now - last_seen >= settings.SESSION_ACTIVITY_RESOLUTION_SECONDS:
            request.session[LAST_SEEN] = now  # modifies, so saves and extends, the session

    @staticmethod
    def stale_reason(request: AuthenticatedRequest) -> str | None:
        now = int(timezone.now().timestamp())
        last_seen = request.session.get(LAST_SEEN, now)
        if now - last_seen > settings.SESSION_IDLE_SECONDS:
            return "You were signed out after 15 minutes without activity."
        signed_in_at = request.session.get(SIGNED_IN_AT, 0)
        if now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
            hours = settings.SESSION_ABSOLUTE_SECONDS // 3600
            return f"You were signed out because you signed in more than {hours} hours ago."
        if request.session.get(EPOCH) != request.user.session_epoch:
            return "You were signed out because your sessions were ended."
        return None

"""Every view needs a fully signed-in (password + TOTP) session that is fresh and current,
unless it is declared public with Django's `login_not_required` (see `haven.access.gates`).

The check runs on the resolved view, not on path prefixes: a view added anywhere, under
`/api/` too, is closed until it is declared public. The API's operations are declared so by
`gates.api_urls`, because their token auth decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from haven.accounts import keptforms
from haven.accounts.models import HashedSession, User, session_key_digest
from haven.accounts.sessions import LAST_SEEN, SIGNED_IN_AT
from haven.accounts.types import AuthenticatedRequest, is_authenticated, is_verified

EPOCH = "haven_session_epoch"
IDLE_REASON = "You were signed out after 15 minutes without activity."


def expired_session_account(request: HttpRequest) -> User | None:
    """The account whose signed-in session the request's cookie names, if that session has
    expired (its row outlives it until the hourly clean-up) and was not ended on purpose
    (its epoch is still the account's); else None."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if not key or len(key) > 64:
        return None
    row = (
        HashedSession.objects.filter(
            session_key=session_key_digest(key),
            user__isnull=False,
            expire_date__lte=timezone.now(),
        )
        .select_related("user")
        .first()
    )
    if row is None or row.user is None or not row.user.is_active:
        return None
    try:
        data = row.get_decoded()
    except Exception:  # noqa: BLE001 - an unreadable session names nobody
        return None
    return row.user if data.get(EPOCH) == row.user.session_epoch else None


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
            # A session past its idle time is gone from the store: the cookie still names
            # the account it was, so what it posted can be kept for that account.
            former = expired_session_account(request) if request.method == "POST" else None
            if former is not None:
                messages.info(request, IDLE_REASON)
            handle = keptforms.keep_posted(request, former)
            return self.signed_out(request, view_func, handle)
        reason = self.stale_reason(request)
        if reason:
            # Expired (idle or absolute lifetime), not ended on purpose: keep what it posted.
            ended = request.session.get(EPOCH) != request.user.session_epoch
            handle = None if ended else keptforms.keep_posted(request, request.user)
            logout(request)
            messages.info(request, reason)
            return self.signed_out(request, view_func, handle)
        if not getattr(view_func, "passive_poll", False):
            self.stamp_activity(request)
        if request.method == "GET" and keptforms.RESTORE in request.session:
            keptforms.take_restored(request)
        return None

    def signed_out(
        self, request: HttpRequest, view_func: Callable[..., Any], handle: str | None
    ) -> HttpResponseBase:
        """To sign-in; with a kept form, the link names it by its handle (nothing else)."""
        response = self.handle_no_permission(request, view_func)
        if handle:
            location = response["Location"]
            separator = "&" if "?" in location else "?"
            response["Location"] = f"{location}{separator}{urlencode({keptforms.PARAM: handle})}"
        return response

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
            return IDLE_REASON
        signed_in_at = request.session.get(SIGNED_IN_AT, 0)
        if now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
            hours = settings.SESSION_ABSOLUTE_SECONDS // 3600
            return f"You were signed out because you signed in more than {hours} hours ago."
        if request.session.get(EPOCH) != request.user.session_epoch:
            return "You were signed out because your sessions were ended."
        return None

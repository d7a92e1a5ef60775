"""Every page needs a fully signed-in (password + TOTP) session that is fresh and current."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from haven.accounts.types import AuthenticatedRequest, is_authenticated, is_verified

PUBLIC_PREFIXES = ("/accounts/login", "/accounts/verify", "/accounts/enrol", "/static/", "/api/")
PUBLIC_PATHS = {"/healthz", "/favicon.ico"}
LAST_SEEN = "haven_last_seen"
EPOCH = "haven_session_epoch"


class SessionGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES):
            return self.get_response(request)
        if not is_authenticated(request) or not is_verified(request):
            return redirect("accounts:login")
        reason = self.stale_reason(request)
        if reason:
            logout(request)
            messages.info(request, reason)
            return redirect("accounts:login")
        self.stamp_activity(request)
        return self.get_response(request)

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
        if request.session.get(EPOCH) != request.user.session_epoch:
            return "You were signed out because your sessions were ended."
        return None

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from haven.accounts.security import note_refused_access
from haven.accounts.types import AuthenticatedRequest
from haven.runtime.health import snapshot
from haven.ui.errors import support_id

from .awaiting import awaiting_you
from .entry_points import entry_points


def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    waiting = awaiting_you(user)
    return render(
        request,
        "web/home.html",
        {
            "nav_active": "home",
            "waiting": [line for line in waiting if line.count],
            "has_queues": bool(waiting),
            "entry_points": entry_points(user),
        },
    )


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """Each part's heartbeat, queue depth and ledger signing lag; 503 when a part is down."""
    health = snapshot()
    return JsonResponse(health.as_json(), status=200 if health.ok else 503)


def error_page(request: HttpRequest, status: int, title: str, detail: str = "") -> HttpResponse:
    """The one error page: a title, what to do, and the support id its log line carries."""
    context = {"title": title, "detail": detail, "support_id": support_id(request, status)}
    return render(request, "web/error.html", context, status=status)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django answers every SuspiciousOperation with 400; a body over the size limit is a 413
    (problem+json under /api/, where the API's own handler cannot see it when a middleware read
    the body first)."""
    if isinstance(exception, RequestDataTooBig):
        if request.path.startswith("/api/"):
            from haven.api import on_body_too_big

            return on_body_too_big(request, exception)
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return error_page(
            request,
            413,
            "What you sent is too large",
            f"Haven accepts at most {limit_mb:.1f} MB in one form. Nothing was saved;"
            " go back and send less.",
        )
    return error_page(
        request, 400, "Sorry, Haven could not read that request", "Nothing was saved."
    )


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    note_refused_access(request, 403)
    return error_page(request, 403, "You do not have access to this page")


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    note_refused_access(request, 404)
    return error_page(request, 404, "Page not found")


def error_500(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500, "Sorry, there is a problem with the service")

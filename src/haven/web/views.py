from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from haven.accounts import services as account_services
from haven.accounts.forms import ReasonForm
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.accounts.security import note_refused_access
from haven.runtime.health import snapshot
from haven.ui.helpers import add_form_errors

from .awaiting import awaiting_you


def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    waiting = awaiting_you(user)
    return render(
        request,
        "web/home.html",
        {
            "nav_active": "home",
            "waiting": [line for line in waiting if line.count],
            "has_queues": bool(waiting),
        },
    )


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """Each part's heartbeat, queue depth and ledger signing lag; 503 when a part is down."""
    health = snapshot()
    return JsonResponse(health.as_json(), status=200 if health.ok else 503)


def administration(request: HttpRequest) -> HttpResponse:
    users = User.objects.order_by("username")
    return render(
        request,
        "web/administration.html",
        {"nav_active": Module.ADMINISTRATION, "accounts": users},
    )


@require_POST
def unlock_account(request: HttpRequest, user_id: int) -> HttpResponse:
    account = get_object_or_404(User, pk=user_id)
    account_services.unlock_account(account, by=request.user)  # type: ignore[arg-type]
    messages.success(request, f"{account.username} can sign in again.")
    return redirect("administration:accounts")


def _administered_account(request: HttpRequest, user_id: int) -> tuple[User, bool]:
    """The account, and whether it is the administrator's own (never reset here: another
    administrator must, so no one alone can replace their own factors)."""
    return get_object_or_404(User, pk=user_id), user_id == request.user.pk


def reset_factors(request: HttpRequest, user_id: int) -> HttpResponse:
    """Confirm, with a reason, removing every second factor of another account."""
    account, own = _administered_account(request, user_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and not own and form.is_valid():
        try:
            account_services.reset_factors(
                account,
                by=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            messages.success(
                request,
                f"{account.username}'s factors were reset: their sessions ended, their tokens "
                "were revoked, and they will set up a new authenticator app at sign-in.",
            )
            return redirect("administration:accounts")
    return render(
        request,
        "web/reset_factors.html",
        {"nav_active": Module.ADMINISTRATION, "account": account, "form": form, "own": own},
    )


def reset_password(request: HttpRequest, user_id: int) -> HttpResponse:
    """Send another account a one-time reset code, to its verified contact methods only."""
    account, own = _administered_account(request, user_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and not own and form.is_valid():
        try:
            account_services.issue_password_reset(
                account,
                by=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            messages.success(
                request,
                f"A reset code was sent to {account.username}'s verified contact methods. "
                "It works once and expires soon.",
            )
            return redirect("administration:accounts")
    return render(
        request,
        "web/reset_password.html",
        {
            "nav_active": Module.ADMINISTRATION,
            "account": account,
            "form": form,
            "own": own,
            "reset_minutes": settings.PASSWORD_RESET_MINUTES,
        },
    )


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    note_refused_access(request, 403)
    return render(
        request, "web/error.html", {"title": "You do not have access to this page"}, status=403
    )


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    note_refused_access(request, 404)
    return render(request, "web/error.html", {"title": "Page not found"}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"title": "Sorry, there is a problem with the service"},
        status=500,
    )

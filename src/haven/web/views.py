from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from haven.accounts import services as account_services
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.runtime.health import snapshot


@dataclass(frozen=True)
class Waiting:
    """One line of Home's "Awaiting you": how many, how many overdue, where the list is."""

    label: str
    count: int
    url: str
    overdue: int = 0


def awaiting_you(user: User) -> list[Waiting]:
    """What waits for this person in each module they use: counts only (no protected field is
    read, so nothing to ledger); each line links to the list that shows the items."""
    lines: list[Waiting] = []
    if user.can_use(Module.PROTECTION):
        from haven.cases import selectors as cases
        from haven.risk import selectors as risk

        work = cases.work_counts(user)
        my_work = reverse("cases:my_work")
        lines += [
            Waiting("Decisions awaiting you", work.decisions, my_work),
            Waiting(
                "Risk assessments to approve or endorse",
                risk.assessments_awaiting_query(user).count(),
                my_work,
            ),
            Waiting("Tasks, reviews and escalations", work.tasks, my_work, work.overdue_tasks),
        ]
    if user.can_use(Module.OPERATIONS):
        from haven.rota import selectors as rota
        from haven.telemetry import selectors as telemetry

        alerts = telemetry.alerts_awaiting(user)
        lines += [
            Waiting("Alerts to acknowledge", len(alerts), reverse("telemetry:home"), len(alerts)),
            Waiting(
                "Shift swaps to answer", rota.pending_swaps_for(user).count(), reverse("rota:home")
            ),
        ]
    if user.can_use(Module.OVERSIGHT):
        from haven.oversight import selectors as oversight

        due = oversight.deadlines_due(user, oversight.awaiting_horizon())
        lines += [
            Waiting(
                "Statutory deadlines due soon",
                len(due),
                reverse("oversight:home"),
                sum(1 for item in due if item.overdue),
            ),
            Waiting(
                "Review applications to determine",
                oversight.open_reviews(user).count(),
                reverse("oversight:home"),
            ),
        ]
    return lines


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
    account_services.unlock_account(account)
    messages.success(request, f"{account.username} can sign in again.")
    return redirect("administration:accounts")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request, "web/error.html", {"title": "You do not have access to this page"}, status=403
    )


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"title": "Page not found"}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"title": "Sorry, there is a problem with the service"},
        status=500,
    )

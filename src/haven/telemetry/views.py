"""Alerts for operations users (live list, detail, acknowledge), devices and trips/stops, and
the device receivers (OsmAnd, OwnTracks HTTP) that devices call without a session."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from haven.accounts.models import User
from haven.accounts.roles import Module

from . import receivers, selectors, services

NAV = {"nav_active": Module.OPERATIONS}


def _status(request: HttpRequest) -> str:
    value = request.GET.get("status", "open")
    return value if value in selectors.STATUS_FILTERS else "open"


def _alert_context(request: HttpRequest) -> dict[str, object]:
    user: User = request.user  # type: ignore[assignment]
    status = _status(request)
    page = selectors.list_alerts(user, status, request.GET.get("page"))
    rows = [(alert, alert.is_open and services.may_acknowledge(user, alert)) for alert in page]
    return {
        **NAV,
        "page": page,
        "rows": rows,
        "status": status,
        "query": f"status={status}",
        "refreshed_at": timezone.now(),
        "statuses": [("open", "Open"), ("acknowledged", "Acknowledged"), ("all", "All")],
    }


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "telemetry/home.html", _alert_context(request))


@never_cache
def live(request: HttpRequest) -> HttpResponse:
    """The alert table alone, for HTMX polling."""
    return render(request, "telemetry/alert_table.html", _alert_context(request))


def alert_detail(request: HttpRequest, alert_id: UUID) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alert = selectors.get_alert(user, alert_id)
    return render(
        request,
        "telemetry/alert_detail.html",
        {
            **NAV,
            "alert": alert,
            "may_acknowledge": alert.is_open and services.may_acknowledge(user, alert),
            "where": selectors.alert_position(user, alert),
        },
    )


@require_POST
def acknowledge(request: HttpRequest, alert_id: UUID) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        services.acknowledge(user, alert_id, request.POST.get("note", ""))
    except services.AlertNotFound as missing:
        raise selectors.NotFound("No such alert") from missing
    except services.ConflictError as conflict:
        messages.info(request, str(conflict))
        return redirect("telemetry:home")
    messages.success(request, "Alert acknowledged")
    return redirect("telemetry:home")


def device_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rows = [(d, selectors.may_read_positions(user, d)) for d in selectors.devices(user)]
    return render(request, "telemetry/devices.html", {**NAV, "rows": rows})


def _day(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def device_report(request: HttpRequest, device_pk: UUID) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    today = timezone.localdate()
    first = _day(request.GET.get("from"), today - dt.timedelta(days=1))
    last = _day(request.GET.get("to"), today)
    if last < first:
        first, last = last, first
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time(0), zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), zone)
    report = selectors.device_report(user, device_pk, start, end)
    return render(
        request,
        "telemetry/device_report.html",
        {**NAV, "report": report, "first": first, "last": last},
    )


def _reply(reply: receivers.Reply) -> HttpResponse:
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
    if reply.status == 429:
        response["Retry-After"] = "60"
    return response


@login_not_required
@csrf_exempt
def osmand(request: HttpRequest) -> HttpResponse:
    """OsmAnd / Traccar Client receiver: any method; 200 empty, 400 malformed or unknown device
    (404 for the JSON variant's unknown device)."""
    return _reply(
        receivers.safely(
            lambda: receivers.receive_osmand(
                query_string=request.META.get("QUERY_STRING", ""),
                content_type=request.META.get("CONTENT_TYPE", ""),
                body=request.body,
            )
        )
    )


@login_not_required
@csrf_exempt
def owntracks(request: HttpRequest) -> HttpResponse:
    """OwnTracks HTTP mode: POST only; answers `[]`."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    user = request.headers.get("X-Limit-U") or request.GET.get("u", "")
    device = request.headers.get("X-Limit-D") or request.GET.get("d", "")
    return _reply(
        receivers.safely(
            lambda: receivers.receive_owntracks_http(body=request.body, user=user, device=device)
        )
    )

"""Alerts for operations users (live list, detail, acknowledge), devices and trips/stops, and
the device receivers (OsmAnd, OwnTracks HTTP) that devices call without a session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from haven.access import modules
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.accounts.types import AuthenticatedRequest
from haven.ui.helpers import add_form_errors, submitted

from . import receivers, selectors, services
from .forms import AssignForm, PolicyForm, ReportPeriodForm, StepForm

NAV = {"nav_active": Module.OPERATIONS}


def _status(request: HttpRequest) -> str:
    value = request.GET.get("status", "open")
    return value if value in selectors.STATUS_FILTERS else "open"


def _alert_context(request: AuthenticatedRequest) -> dict[str, object]:
    user = request.user
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


def home(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "telemetry/home.html", _alert_context(request))


@never_cache
def live(request: AuthenticatedRequest) -> HttpResponse:
    """The alert table alone, for HTMX polling."""
    return render(request, "telemetry/alert_table.html", _alert_context(request))


def alert_detail(request: AuthenticatedRequest, alert_id: UUID) -> HttpResponse:
    user = request.user
    alert = selectors.get_alert(user, alert_id)
    return render(
        request,
        "telemetry/alert_detail.html",
        {
            **NAV,
            "alert": alert,
            "may_acknowledge": alert.is_open and services.may_acknowledge(user, alert),
            "may_resolve": alert.status != "resolved" and services.may_acknowledge(user, alert),
            "where": selectors.alert_position(user, alert),
        },
    )


def _alert_step(
    change: Callable[[User, UUID, str], object], done: str, *, conflict_stays: bool
) -> Callable[..., HttpResponse]:
    """Acknowledge or resolve an alert with the note given (POST only). Someone else having
    done it first is said, not an error: then back to the alert if `conflict_stays`, else home."""

    @require_POST
    def view(request: AuthenticatedRequest, alert_id: UUID) -> HttpResponse:
        try:
            change(request.user, alert_id, request.POST.get("note", ""))
        except services.ConflictError as conflict:
            messages.info(request, str(conflict))
            if conflict_stays:
                return redirect("telemetry:detail", alert_id=alert_id)
        else:
            messages.success(request, done)
        return redirect("telemetry:home")

    view.__name__ = view.__qualname__ = change.__name__
    return view


acknowledge = _alert_step(services.acknowledge, "Alert acknowledged", conflict_stays=False)
resolve = _alert_step(services.resolve, "Alert resolved: paging has stopped", conflict_stays=True)


# ------------------------------------------------------------------------ escalation policies


def _rota_names() -> list[str]:
    from haven.rota import selectors as rota_selectors

    return rota_selectors.rota_names()


def policy_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "telemetry/policies.html",
        {
            **NAV,
            "policies": selectors.policies(user),
            "may_manage": selectors.may_manage_policies(user),
        },
    )


def policy_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    modules.require_technical_supervisor(user)
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.create_policy(user, **form.cleaned_data)
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            messages.success(request, f"Policy {policy.name} created. Add its steps next.")
            return redirect("telemetry:policy", policy_id=policy.pk)
    return render(request, "telemetry/policy_form.html", {**NAV, "form": form, "policy": None})


def policy_detail(request: AuthenticatedRequest, policy_id: UUID) -> HttpResponse:
    user = request.user
    policy = selectors.get_policy(user, policy_id)
    may_manage = selectors.may_manage_policies(user)
    return render(
        request,
        "telemetry/policy_detail.html",
        {
            **NAV,
            "policy": policy,
            "steps": list(policy.steps.all()),
            "assigned": selectors.policy_assignments(user, policy),
            "may_manage": may_manage,
            "step_form": StepForm(rota_names=_rota_names()) if may_manage else None,
            "assign_form": AssignForm(sources=selectors.policy_sources(user))
            if may_manage
            else None,
        },
    )


def policy_edit(request: AuthenticatedRequest, policy_id: UUID) -> HttpResponse:
    user = request.user
    modules.require_technical_supervisor(user)
    policy = selectors.get_policy(user, policy_id)
    initial = model_to_dict(policy, fields=("name", "description", "repeat", "is_default"))
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        version = int(request.POST.get("version", "0") or 0)
        if submitted(
            request,
            form,
            lambda: services.update_policy(user, policy.pk, version=version, **form.cleaned_data),
            "Policy saved",
            shown=(services.ConflictError,),
        ):
            return redirect("telemetry:policy", policy_id=policy.pk)
    return render(request, "telemetry/policy_form.html", {**NAV, "form": form, "policy": policy})


def _policy_action(
    act: Callable[[AuthenticatedRequest, User, UUID], str],
) -> Callable[..., HttpResponse]:
    """A supervisor's change to a policy from the policy page (POST only): runs `act`, says what
    it did (or why not), and goes back to the page."""

    @require_POST
    @wraps(act)
    def view(request: AuthenticatedRequest, policy_id: UUID) -> HttpResponse:
        user = request.user
        modules.require_technical_supervisor(user)
        selectors.get_policy(user, policy_id)
        try:
            messages.success(request, act(request, user, policy_id))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except services.PolicyNotFound as gone:  # a step or assignment removed meanwhile
            messages.error(request, f"{gone}: it may have been removed already")
        return redirect("telemetry:policy", policy_id=policy_id)

    return view


@_policy_action
def policy_step_add(request: AuthenticatedRequest, user: User, policy_id: UUID) -> str:
    form = StepForm(request.POST, rota_names=_rota_names())
    if not form.is_valid():
        raise ValidationError([f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items()])
    step = services.add_step(
        user,
        policy_id,
        delay_seconds=form.cleaned_data["delay_minutes"] * 60,
        targets=[services.TargetSpec(**t) for t in form.targets()],
    )
    return f"Step {step.position} added"


@_policy_action
def policy_step_remove(request: AuthenticatedRequest, user: User, policy_id: UUID) -> str:
    services.remove_step(user, policy_id, request.POST.get("step", "") or "0")
    return "Step removed"


@_policy_action
def policy_assign(request: AuthenticatedRequest, user: User, policy_id: UUID) -> str:
    form = AssignForm(request.POST, sources=selectors.policy_sources(user))
    if not form.is_valid():
        raise ValidationError("Choose what to use this policy for")
    source, source_id = form.chosen()
    services.assign_policy(user, policy_id, source=source, source_id=UUID(source_id))
    return "Policy assigned"


@_policy_action
def policy_unassign(request: AuthenticatedRequest, user: User, policy_id: UUID) -> str:
    services.unassign_policy(user, policy_id, request.POST.get("assignment", "") or "0")
    return "Assignment removed"


def device_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    rows = [(d, selectors.may_read_positions(user, d)) for d in selectors.devices(user)]
    return render(request, "telemetry/devices.html", {**NAV, "rows": rows})


def device_report(request: AuthenticatedRequest, device_pk: UUID) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    first, last = today - dt.timedelta(days=1), today
    period = ReportPeriodForm(request.GET or None)
    if period.is_bound and period.is_valid():
        first = period.cleaned_data["from"] or first
        last = period.cleaned_data["to"] or last
    if last < first:
        first, last = last, first
    if not period.is_bound or not period.errors:  # show the days reported on
        period = ReportPeriodForm(initial={"from": first, "to": last})
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time(0), zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), zone)
    report = selectors.device_report(user, device_pk, start, end)
    return render(
        request,
        "telemetry/device_report.html",
        {**NAV, "report": report, "first": first, "last": last, "form": period},
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

"""The covert authorisations register's pages. Thin: forms in, services for writes, selectors
for reads. Deployments and trackers are looked up through their own domains' selectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.accounts.types import AuthenticatedRequest
from haven.concurrency.locking import ConflictError
from haven.equipment import selectors as equipment
from haven.telemetry import selectors as telemetry
from haven.ui.helpers import action_forms, created, submitted

from . import selectors, services
from .forms import AuthorisationForm, CancelForm, LinkForm, RenewForm, ReviewForm
from .models import Authorisation

NAV = {"nav_active": Module.OPERATIONS}


def register(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    rows = list(selectors.authorisations_visible_to(user))
    periods = equipment.deployment_periods(list(selectors.linked_deployment_ids(rows)))
    flagged = selectors.outside_authority(rows, periods)
    now = timezone.now()
    return render(
        request,
        "authorisations/register.html",
        {
            **NAV,
            "rows": [(a, a.state(now), a.pk in flagged) for a in rows],
            "may_manage": selectors.may_manage(user),
        },
    )


def new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    selectors.require_supervisor(user)
    form = AuthorisationForm(request.POST or None)
    authorisation = created(
        request,
        form,
        lambda: services.record_authorisation(user, **form.cleaned_data),
        "Authorisation recorded.",
    )
    if authorisation is not None:
        return redirect("authorisations:detail", authorisation_id=authorisation.pk)
    return render(
        request,
        "authorisations/new.html",
        {**NAV, "form": form},
        status=400 if form.errors else 200,
    )


ACTIONS = {
    "review": ReviewForm,
    "renew": RenewForm,
    "cancel": CancelForm,
    "link": LinkForm,
}


# The actions that record one event on the authorisation: its service and what is said after.
RECORDINGS: dict[str, tuple[Callable[..., object], str]] = {
    "review": (services.record_review, "Review recorded."),
    "renew": (services.renew, "Renewal recorded."),
    "cancel": (services.cancel, "Cancellation recorded."),
}


def _apply(user: User, authorisation: Authorisation, action: str, data: dict[str, Any]) -> str:
    if action not in RECORDINGS:
        return _link(user, authorisation, data)
    record, done = RECORDINGS[action]
    record(user, authorisation.pk, **data)
    return done


def _link(user: User, authorisation: Authorisation, data: dict[str, Any]) -> str:
    if data.get("deployment"):
        reference = data["deployment"].strip()
        deployment = equipment.deployments_visible_to(user).filter(reference=reference).first()
        if deployment is None:
            raise ValidationError(
                {"deployment": ["No deployment with that reference on your teams"]}
            )
        services.link(user, authorisation.pk, label=reference, deployment_id=deployment.pk)
        return f"Deployment {reference} linked."
    device_id = data["device"].strip()
    device = telemetry.devices(user).filter(device_id=device_id).first()
    if device is None:
        raise ValidationError({"device": ["No tracker reports with that id"]})
    services.link(user, authorisation.pk, label=device_id, device_pk=device.pk)
    return f"Tracker {device_id} linked."


def detail(request: AuthenticatedRequest, authorisation_id: UUID) -> HttpResponse:
    user = request.user
    authorisation = selectors.find_authorisation(user, authorisation_id)
    may_manage = selectors.may_manage(user)
    action, forms, form = action_forms(request, ACTIONS, initial={"version": authorisation.version})
    if form is not None and not may_manage:
        form.add_error(None, "Only technical supervisors can change the register")
    elif form is not None and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        if submitted(
            request,
            form,
            lambda: _apply(user, authorisation, action, data),
            lambda message: str(message),
            shown=(ConflictError,),
        ):
            return redirect("authorisations:detail", authorisation_id=authorisation.pk)
    elif request.method == "POST" and form is None:
        form = ReviewForm(data={}, prefix="unknown")
        form.is_valid()
        form.add_error(None, "Choose what to record: a review, renewal, cancellation or link")
    authorisation = selectors.get_authorisation(user, authorisation.pk)
    periods = equipment.deployment_periods(list(selectors.linked_deployment_ids([authorisation])))
    return render(
        request,
        "authorisations/detail.html",
        {
            **NAV,
            "authorisation": authorisation,
            "state": authorisation.state(),
            "checks": selectors.deployment_checks(authorisation, periods),
            "devices": authorisation.links.filter(device_pk__isnull=False),
            "reviews": authorisation.reviews.select_related("reviewed_by"),
            "renewals": authorisation.renewals.select_related("renewed_by"),
            "may_manage": may_manage,
            "forms": forms,
            "form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )


def quarantine(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    rows = selectors.get_quarantine(user)
    return render(request, "authorisations/quarantine.html", {**NAV, "rows": rows})

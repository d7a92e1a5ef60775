"""Equipment and deployment pages. Thin: forms in, services for writes, selectors for reads."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from haven import csvfiles
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.accounts.types import AuthenticatedRequest
from haven.revisions import history_rows
from haven.ui.helpers import (
    action_forms,
    add_form_errors,
    attachment,
    confirmation,
    confirmed,
    corrected,
    created,
    marking_context,
    query_without_page,
    session_purpose,
    submitted,
)

from . import permissions, reports, selectors, services
from .forms import (
    AssetCorrectionForm,
    AssetForm,
    AssetSearchForm,
    AssetTypeCorrectionForm,
    AssetTypeRetireForm,
    AssignForm,
    CalendarForm,
    ChecklistForm,
    CustodyForm,
    DeploymentForm,
    DeploymentSearchForm,
    KitForm,
    PeriodForm,
    RemoveKitForm,
    StateForm,
    StatusForm,
    TeamForm,
)
from .models import (
    Asset,
    AssetState,
    CustodyEvent,
    Deployment,
    DeploymentAsset,
    DeploymentStatus,
)

NAV = {"nav_active": Module.OPERATIONS}


def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    held = Asset.objects.filter(holder=user).select_related("asset_type")
    upcoming = (
        selectors.deployments_visible_to(user)
        .filter(status__in=[DeploymentStatus.PLANNED, DeploymentStatus.LIVE])
        .order_by("starts_at")[:10]
    )
    return render(
        request,
        "equipment/home.html",
        {
            **NAV,
            "held": held,
            "upcoming": upcoming,
            "is_supervisor": selectors.is_supervisor(user),
            "may_manage_catalogue": permissions.may_manage_catalogue(user),
        },
    )


def _search_page(
    request: AuthenticatedRequest, template: str, form: Any, page: Any
) -> HttpResponse:
    """A register's list page (assets, deployments): the search form and one page of results."""
    return render(
        request,
        template,
        {
            **NAV,
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "is_supervisor": selectors.is_supervisor(request.user),
        },
    )


def _made_or_form(
    request: AuthenticatedRequest, made: Any, detail: str, form: Any, title: str, submit: str
) -> HttpResponse:
    """After ``created``: the new record's page (URL name ``detail``, given its pk), or the form
    page again on a GET, an invalid form or a refusal."""
    if made is not None:
        return redirect(detail, made.pk)
    return render(
        request, "ui/form_page.html", {**NAV, "form": form, "title": title, "submit": submit}
    )


# ------------------------------------------------------------------------------ assets


def asset_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = AssetSearchForm(request.GET or None)
    search = (
        selectors.AssetSearch(**form.cleaned_data) if form.is_valid() else selectors.AssetSearch()
    )
    if request.GET.get("format") == "csv":
        rows = [
            [a.serial, a.asset_type.name, a.make, a.model_name, a.get_state_display(), a.custodian]
            for a in selectors.search_assets(user, search)
        ]
        header = ["serial", "type", "make", "model", "state", "held by / at"]
        return csvfiles.csv_response("assets.csv", header, rows)
    page = selectors.list_assets(user, search, request.GET.get("page"))
    return _search_page(request, "equipment/assets.html", form, page)


def asset_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    selectors.require_supervisor(user)
    form = AssetForm(request.POST or None)
    asset = created(
        request,
        form,
        lambda: services.register_asset(user, **form.cleaned_data),
        lambda asset: f"{asset} registered and received into the store.",
    )
    return _made_or_form(request, asset, "equipment:asset_detail", form, "Register kit", "Register")


def open_deployments_for(user: User, asset: Asset) -> list[tuple[str, str]]:
    visible = selectors.deployments_visible_to(user).filter(
        kit__asset=asset,
        kit__removed_at__isnull=True,
        status__in=[DeploymentStatus.PLANNED, DeploymentStatus.LIVE],
    )
    return [(str(d.pk), f"{d.reference} {d.title}") for d in visible]


def asset_detail(request: AuthenticatedRequest, asset_id: UUID) -> HttpResponse:
    user = request.user
    asset = selectors.get_asset(user, asset_id)
    action = request.POST.get("action") if request.method == "POST" else None
    deployments = open_deployments_for(user, asset)
    custody_form = CustodyForm(
        request.POST if action == "custody" else None, deployments=deployments, prefix="custody"
    )
    state_form = StateForm(request.POST if action == "state" else None, prefix="state")
    form = custody_form if action == "custody" else state_form if action == "state" else None
    if action == "custody" and custody_form.is_valid():
        data = custody_form.cleaned_data
        from_user = User.objects.filter(pk=data["from_user"]).first() if data["from_user"] else None
        try:
            event = services.record_custody(
                user,
                asset.pk,
                kind=data["kind"],
                signature=data["signature"],
                location=data["location"],
                from_user=from_user,
                deployment_id=data["deployment"] or None,
                note=data["note"],
            )
        except ValidationError as error:
            add_form_errors(custody_form, error)
        else:
            messages.success(request, f"Custody recorded: {event.get_kind_display()}.")
            return redirect("equipment:asset_detail", asset_id=asset.pk)
    elif action == "state" and state_form.is_valid():
        try:
            services.change_state(
                user, asset.pk, state_form.cleaned_data["state"], state_form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_form_errors(state_form, error)
        except PermissionDenied:
            state_form.add_error(None, "Only technical supervisors change an asset's state")
        else:
            messages.success(request, "State changed.")
            return redirect("equipment:asset_detail", asset_id=asset.pk)
    return render(
        request,
        "equipment/asset_detail.html",
        {
            **NAV,
            "asset": asset,
            "link": selectors.asset_link_details(user, asset, session_purpose(request)),
            "may_see_link": selectors.may_see_link_details(user, asset),
            "events": selectors.custody_history(user, asset.pk),
            "intact": services.chain_is_intact(asset),
            "custody_form": custody_form,
            "state_form": state_form,
            "form": form,
            "is_supervisor": selectors.is_supervisor(user),
            "may_correct": permissions.may_correct_asset(user),
            "states": AssetState,
        },
        status=400 if form is not None and form.errors else 200,
    )


def asset_edit(request: AuthenticatedRequest, asset_id: UUID) -> HttpResponse:
    """Correct an asset's details with the version read and a reason; technical supervisors
    only (equipment.permissions), so anyone else is refused before the form is shown."""
    user = request.user
    asset = selectors.get_asset(user, asset_id)
    if not permissions.may_correct_asset(user):
        raise PermissionDenied
    link = selectors.asset_link_details(user, asset, session_purpose(request))
    initial = {
        "version": asset.version,
        "device_id": asset.device_id or "",
        "firmware": asset.firmware,
        "sim_details": link.get("sim_details", ""),
        "ip_details": link.get("ip_details", ""),
        "notes": asset.notes,
    }
    form = AssetCorrectionForm(request.POST or None, initial=initial)
    correct = partial(services.update_asset, user, asset.pk)
    shown = (services.ConflictError, PermissionDenied)
    if corrected(request, form, correct, "Asset details corrected.", shown):
        return redirect("equipment:asset_detail", asset_id=asset.pk)
    return render(
        request,
        "equipment/asset_edit.html",
        {**NAV, "asset": asset, "form": form},
        status=400 if form.errors else 200,
    )


ASSET_HISTORY_LABELS = {
    "device_id": "Device id",
    "firmware": "Firmware",
    "sim_details": "SIM details",
    "ip_details": "IP / network details",
    "notes": "Notes",
}


@require_GET
def asset_history(request: AuthenticatedRequest, asset_id: UUID) -> HttpResponse:
    """Every earlier version of an asset's details, with who changed them, when and why."""
    user = request.user
    asset, revisions = selectors.asset_history(user, asset_id, session_purpose(request))
    versions = history_rows(revisions, ASSET_HISTORY_LABELS)
    return render(
        request,
        "equipment/asset_history.html",
        {
            **NAV,
            "asset": asset,
            "versions": versions,
            "may_correct": permissions.may_correct_asset(user),
        },
    )


# ------------------------------------------------------------------------------ catalogue


def _catalogue_manager(request: AuthenticatedRequest) -> User:
    user = request.user
    if not permissions.may_manage_catalogue(user):
        raise PermissionDenied
    return user


@require_GET
def asset_types(request: AuthenticatedRequest) -> HttpResponse:
    """Kinds of kit, current and retired, for those who manage them."""
    _catalogue_manager(request)
    return render(
        request,
        "equipment/asset_types.html",
        {**NAV, "types": selectors.asset_types(active_only=False)},
    )


def asset_type_change(request: AuthenticatedRequest, code: str, retire: bool) -> HttpResponse:
    user = _catalogue_manager(request)
    kind = selectors.asset_types(active_only=False).filter(code=code).first()
    if kind is None or (retire and not kind.active):
        raise selectors.NotFound("No such kind of kit")
    form: AssetTypeRetireForm | AssetTypeCorrectionForm
    if retire:
        form = AssetTypeRetireForm(request.POST or None, initial={"version": kind.version})
    else:
        initial = {
            "version": kind.version,
            **model_to_dict(kind, fields=("name", "description", "trackable")),
        }
        form = AssetTypeCorrectionForm(request.POST or None, initial=initial)
    change = services.retire_asset_type if retire else services.correct_asset_type
    done = f"{kind.name} retired." if retire else "Kind of kit corrected."
    if corrected(request, form, partial(change, user, code), done):
        return redirect("equipment:asset_types")
    return render(
        request,
        "equipment/asset_type_form.html",
        {**NAV, "kind": kind, "form": form, "retire": retire},
        status=400 if form.errors else 200,
    )


def asset_type_edit(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return asset_type_change(request, code, retire=False)


def asset_type_retire(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return asset_type_change(request, code, retire=True)


@require_GET
def custody_export(request: AuthenticatedRequest, asset_id: UUID, fmt: str) -> HttpResponse:
    user = request.user
    asset, events = selectors.export_custody(user, asset_id, fmt)
    name = f"custody-{asset.serial}"
    if fmt == "csv":
        return csvfiles.attachment(reports.custody_csv(events), f"{name}.csv")
    return attachment(
        reports.custody_pdf(asset, events, "OFFICIAL-SENSITIVE"), f"{name}.pdf", "application/pdf"
    )


# ------------------------------------------------------------------------------ kit lists


def kit_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    is_supervisor = selectors.is_supervisor(user)
    form = KitForm(request.POST or None) if is_supervisor else None
    if form is not None:
        kit = created(
            request,
            form,
            lambda: services.create_kit(user, **form.cleaned_data),
            lambda kit: f"Kit list {kit.name} created.",
        )
        if kit is not None:
            return redirect("equipment:kits")
    return render(
        request,
        "equipment/kits.html",
        {**NAV, "kits": selectors.kit_lists(user), "form": form, "is_supervisor": is_supervisor},
    )


# ------------------------------------------------------------------------------ deployments


def deployment_search(
    request: HttpRequest,
) -> tuple[DeploymentSearchForm, selectors.DeploymentSearch]:
    form = DeploymentSearchForm(request.GET or None)
    search = (
        selectors.DeploymentSearch(**form.cleaned_data)
        if form.is_valid()
        else selectors.DeploymentSearch()
    )
    return form, search


def deployment_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form, search = deployment_search(request)
    page = selectors.list_deployments(user, search, request.GET.get("page"))
    return _search_page(request, "equipment/deployments.html", form, page)


@require_GET
def deployment_log(request: AuthenticatedRequest, fmt: str) -> HttpResponse:
    user = request.user
    _, search = deployment_search(request)
    deployments = selectors.export_deployment_log(user, search, fmt)
    if fmt == "csv":
        return csvfiles.attachment(reports.deployment_log_csv(deployments), "deployment-log.csv")
    marking = max((d.marking for d in deployments), default="OFFICIAL-SENSITIVE")
    return attachment(
        reports.deployment_log_pdf(deployments, marking), "deployment-log.pdf", "application/pdf"
    )


def deployment_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    selectors.require_supervisor(user)
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    form = DeploymentForm(
        request.POST or None,
        initial={"starts_at": start, "ends_at": start + timedelta(days=2)},
    )
    deployment = created(
        request,
        form,
        lambda: services.create_deployment(user, **form.cleaned_data),
        lambda deployment: f"Deployment {deployment.reference} planned.",
    )
    return _made_or_form(
        request,
        deployment,
        "equipment:deployment_detail",
        form,
        "Plan a deployment",
        "Plan deployment",
    )


DEPLOYMENT_ACTIONS = {
    "team": TeamForm,
    "kit": AssignForm,
    "schedule": PeriodForm,
    "status": StatusForm,
    "checklist": ChecklistForm,
}


def _apply(user: User, deployment: Deployment, action: str, data: dict[str, Any]) -> str:
    if action == "team":
        member = User.objects.get(pk=data["user"])
        services.add_team_member(user, deployment.pk, member, data["place"])
        return f"{member} added to the team."
    if action == "kit":
        if data.get("kit"):
            services.assign_kit(user, deployment.pk, data["kit"])
            return f"Kit list {data['kit']} assigned."
        services.assign_asset(user, deployment.pk, data["asset"])
        return f"{data['asset']} assigned."
    if action == "schedule":
        services.reschedule_deployment(
            user, deployment.pk, starts_at=data["starts_at"], ends_at=data["ends_at"]
        )
        return "Dates changed."
    if action == "status":
        services.set_status(user, deployment.pk, data["status"], data["outcome"])
        return "Status changed."
    services.tick_checklist(
        user, deployment.pk, which=data["which"], index=data["index"], done=data["done"]
    )
    return "Checklist updated."


def cancelling(action: str, data: dict[str, Any]) -> bool:
    """Cancelling a deployment is final: it is confirmed on a page of its own first."""
    return action == "status" and data.get("status") == DeploymentStatus.CANCELLED


def deployment_detail(request: AuthenticatedRequest, deployment_id: UUID) -> HttpResponse:
    user = request.user
    deployment = selectors.find_visible_deployment(user, deployment_id)
    may_manage = selectors.may_manage(user, deployment)
    action, forms_by_action, form = action_forms(request, DEPLOYMENT_ACTIONS)
    if form is not None and (may_manage or action == "checklist"):
        if form.is_valid() and cancelling(action, form.cleaned_data) and not confirmed(request):
            return confirmation(
                request,
                question=f"Cancel deployment {deployment.reference}?",
                yes="Yes, cancel the deployment",
                back_url=reverse("equipment:deployment_detail", args=[deployment.pk]),
                hidden={
                    "action": "status",
                    "status-status": DeploymentStatus.CANCELLED,
                    "status-outcome": form.cleaned_data["outcome"],
                },
                details=[("Deployment", deployment.reference)],
                warning="A cancelled deployment cannot be planned again.",
            )
        if submitted(
            request,
            form,
            lambda: _apply(user, deployment, action, form.cleaned_data),
            lambda message: str(message),
        ):
            return redirect("equipment:deployment_detail", deployment_id=deployment.pk)
    elif form is not None:
        form.add_error(None, "Only the deployment's supervising officer can do this")
    deployment = selectors.get_deployment(user, deployment.pk, session_purpose(request))
    if not forms_by_action["schedule"].is_bound:  # offered with the period it has now
        forms_by_action["schedule"].initial = {
            "starts_at": timezone.localtime(deployment.starts_at),
            "ends_at": timezone.localtime(deployment.ends_at),
        }
    return render(
        request,
        "equipment/deployment_detail.html",
        {
            **NAV,
            **marking_context(deployment.marking),
            "deployment": deployment,
            "members": deployment.team,
            "kit": deployment.kit.select_related("asset", "asset__asset_type", "asset__holder"),
            "removed_kit": DeploymentAsset.history.filter(
                deployment=deployment, removed_at__isnull=False
            ).select_related("asset", "removed_by"),
            "may_manage": may_manage,
            "forms": forms_by_action,
            "form": form,
            "custody": CustodyEvent.objects.filter(deployment=deployment).select_related(
                "asset", "signed_by"
            ),
        },
        status=400 if form is not None and form.errors else 200,
    )


def kit_remove(request: AuthenticatedRequest, deployment_id: UUID, asset_id: UUID) -> HttpResponse:
    """Confirmation page: take one asset off a deployment's kit, with a reason."""
    user = request.user
    deployment = selectors.find_visible_deployment(user, deployment_id)
    if not (selectors.may_manage(user, deployment) and deployment.is_open):
        raise PermissionDenied
    row = services.kit_row(deployment, asset_id)
    form = RemoveKitForm(request.POST or None, initial={"version": row.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.remove_asset(
                user,
                deployment.pk,
                row.asset_id,
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except services.ConflictError as conflict:
            form.add_error(None, str(conflict))
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            messages.success(request, f"{row.asset} taken off {deployment.reference}.")
            return redirect("equipment:deployment_detail", deployment_id=deployment.pk)
    return render(
        request,
        "equipment/kit_remove.html",
        {
            **NAV,
            **marking_context(deployment.marking),
            "deployment": deployment,
            "row": row,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@require_GET
def deployment_pdf(request: AuthenticatedRequest, deployment_id: UUID) -> HttpResponse:
    user = request.user
    deployment = selectors.export_plan(user, deployment_id)
    return attachment(
        reports.plan_pdf(deployment), f"{deployment.reference}.pdf", "application/pdf"
    )


def calendar(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = CalendarForm(request.GET or None)
    first = timezone.localdate()
    days = 14
    if form.is_valid():
        first = form.cleaned_data["start"] or first
        days = form.cleaned_data["days"] or days
    day_list, rows = selectors.calendar(user, first, days)
    return render(
        request,
        "equipment/calendar.html",
        {
            **NAV,
            "form": form,
            "days": day_list,
            "rows": rows,
            "previous": first - timedelta(days=days),
            "next": first + timedelta(days=days),
            "span": days,
        },
    )

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from haven.access.decorators import module_required
from haven.access.models import AccessGrant, TeamMembership
from haven.access.purposes import Purpose, parse_purpose
from haven.accounts.models import User
from haven.accounts.roles import Module, Role

from . import selectors, services
from .forms import BreakGlassForm, CaseSearchForm, GrantForm, PurposeForm, TeamMemberForm
from .models import OBJECT_TYPE

SESSION_PURPOSE = "haven_purpose"


def session_purpose(request: HttpRequest) -> str | None:
    return parse_purpose(request.session.get(SESSION_PURPOSE))


def ask_purpose(request: HttpRequest) -> HttpResponse:
    return redirect(f"/purpose/?next={request.get_full_path()}")


def add_form_errors(form: object, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)  # type: ignore[attr-defined]
    else:
        form.add_error(None, error.messages)  # type: ignore[attr-defined]


@module_required(Module.PROTECTION)
def choose_purpose(request: HttpRequest) -> HttpResponse:
    form = PurposeForm(request.POST or None, initial={"purpose": session_purpose(request)})
    next_url = request.POST.get("next") or request.GET.get("next") or "/cases/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        next_url = "/cases/"
    if request.method == "POST" and form.is_valid():
        request.session[SESSION_PURPOSE] = form.cleaned_data["purpose"]
        return redirect(next_url)
    return render(
        request, "cases/purpose.html", {"form": form, "next": next_url, "nav_active": "protection"}
    )


@module_required(Module.PROTECTION)
def case_list(request: HttpRequest) -> HttpResponse:
    purpose = session_purpose(request)
    if purpose is None:
        return ask_purpose(request)
    form = CaseSearchForm(request.GET or None)
    search = (
        selectors.CaseSearch(**form.cleaned_data) if form.is_valid() else selectors.CaseSearch()
    )
    user: User = request.user  # type: ignore[assignment]
    page = selectors.list_cases(user, search, request.GET.get("page"), purpose)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "purpose_label": Purpose(purpose).label,
            "nav_active": "protection",
            "classification": "SECRET",
            "classification_css": "secret",
        },
    )


@module_required(Module.PROTECTION)
def case_detail(request: HttpRequest, case_id: UUID) -> HttpResponse:
    purpose = session_purpose(request)
    user: User = request.user  # type: ignore[assignment]
    if purpose is None:
        selectors.find_visible_case(user, case_id)  # 404 before asking, so no existence oracle
        return ask_purpose(request)
    case = selectors.get_case(user, case_id, purpose)
    team = TeamMembership.objects.filter(object_type=OBJECT_TYPE, object_id=case.pk).select_related(
        "user"
    )
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "team": team,
            "purpose_label": Purpose(purpose).label,
            "may_see_identity": selectors.policy.may_read_identity(user, OBJECT_TYPE, case.pk),
            "may_manage": selectors.policy.may_grant(user, OBJECT_TYPE, case.pk),
            "nav_active": "protection",
            **marking_context(case.marking),
        },
    )


def marking_context(marking: str) -> dict[str, str]:
    css = "top-secret" if marking.startswith("TOP") else marking.split()[0].lower()
    return {"classification": marking, "classification_css": css}


@module_required(Module.PROTECTION)
def case_identity(request: HttpRequest, case_id: UUID) -> HttpResponse:
    purpose = session_purpose(request)
    user: User = request.user  # type: ignore[assignment]
    if purpose is None:
        selectors.find_identity_case(user, case_id)
        return ask_purpose(request)
    record = selectors.get_identity(user, case_id, purpose)
    case = selectors.find_identity_case(user, case_id)
    return render(
        request,
        "cases/identity.html",
        {
            "case": case,
            "record": record,
            "nav_active": "protection",
            **marking_context("TOP SECRET"),
        },
    )


@module_required(Module.PROTECTION)
def case_team(request: HttpRequest, case_id: UUID) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = selectors.case_for_management(user, case_id)
    grant_form = GrantForm(request.POST or None, prefix="grant")
    member_form = TeamMemberForm(request.POST or None, prefix="member")
    if request.method == "POST":
        form = grant_form if "grant-user" in request.POST else member_form
        if form.is_valid():
            try:
                if form is grant_form:
                    data = grant_form.cleaned_data
                    services.grant_access(
                        user, case.pk, data["user"], reason=data["reason"], days=data["days"]
                    )
                else:
                    data = member_form.cleaned_data
                    services.add_team_member(user, case.pk, data["user"], data["team_role"])
            except ValidationError as error:
                add_form_errors(form, error)
            else:
                messages.success(request, "Access updated.")
                return redirect("cases:team", case_id=case.pk)
    return render(
        request,
        "cases/team.html",
        {
            "case": case,
            "grant_form": grant_form,
            "member_form": member_form,
            "form": grant_form if "grant-user" in request.POST else member_form,
            "team": TeamMembership.objects.filter(
                object_type=OBJECT_TYPE, object_id=case.pk
            ).select_related("user"),
            "grants": AccessGrant.objects.filter(object_type=OBJECT_TYPE, object_id=case.pk)
            .select_related("user", "granted_by")
            .order_by("-granted_at"),
            "nav_active": "protection",
        },
    )


@module_required(Module.PROTECTION)
def break_glass(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_role(Role.PROTECTION_MANAGER):
        raise PermissionDenied
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.break_glass(
                user, form.cleaned_data["reference"], form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_form_errors(form, error)
        except selectors.CaseNotFound:
            form.add_error("reference", "No case can be opened with that reference")
        else:
            request.session[SESSION_PURPOSE] = Purpose.EMERGENCY
            messages.info(
                request,
                "Break-glass access granted for 30 minutes. The case manager has been told.",
            )
            return redirect("cases:detail", case_id=case.pk)
    return render(request, "cases/break_glass.html", {"form": form, "nav_active": "protection"})


@require_POST
@module_required(Module.PROTECTION)
def clear_purpose(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_PURPOSE, None)
    return redirect("cases:purpose")

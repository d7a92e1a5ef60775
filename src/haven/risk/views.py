"""Risk pages. Thin: every read through selectors (need-to-know + ledger), every write through
services; a session purpose of access is required before assessment content is shown."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
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
from django.views.decorators.http import require_GET, require_POST

from haven.access.models import TeamMembership
from haven.access.purposes import Purpose
from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.accounts.types import AuthenticatedRequest
from haven.cases.selectors import find_visible_case
from haven.revisions import history_rows
from haven.ui.helpers import (
    add_form_errors,
    ask_purpose,
    attachment,
    corrected,
    marking_context,
    query_without_page,
    session_purpose,
    submitted,
)

from . import forms, permissions, reports, selectors, services
from .models import RiskAssessment, Status

# The main navigation's Risk item (haven.web.context_processors): risk pages light it up.
RISK_NAV = "risk"


def user_of(request: AuthenticatedRequest) -> User:
    return request.user


def page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    purpose = session_purpose(request)
    context.setdefault("purpose_label", Purpose(purpose).label if purpose else "")
    return render(request, template, {"nav_active": RISK_NAV, **context}, status=status)


def team_users(case_id: UUID) -> list[User]:
    ids = TeamMembership.objects.filter(object_type="case", object_id=case_id).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("last_name"))


def with_purpose(check: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 404 for what the user may not see before asking for the purpose of access."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def wrapper(request: AuthenticatedRequest, **kwargs: Any) -> HttpResponse:
            purpose = session_purpose(request)
            if purpose is None:
                check(user_of(request), *kwargs.values())
                return ask_purpose(request)
            return view(request, purpose=purpose, **kwargs)

        wrapper.__name__ = view.__name__
        wrapper.__doc__ = view.__doc__
        return wrapper

    return decorate


# --------------------------------------------------------------------------- portfolio


@with_purpose(lambda user: None)
def home(request: AuthenticatedRequest, purpose: str) -> HttpResponse:
    """The manager's portfolio: every case they may see, by band and overdue review."""
    form = forms.PortfolioForm(request.GET or None)
    band, show, after = "", "all", None
    if form.is_valid():
        band, show = form.cleaned_data["band"], form.cleaned_data["show"] or "all"
        after = form.cleaned_data["after"]
    view = selectors.portfolio(user_of(request), purpose, band=band, show=show, after=after)
    return page(
        request,
        "risk/home.html",
        {
            "view": view,
            "band": band,
            "show": show,
            "query": query_without_page(request),
            "form": form,
            "is_manager": user_of(request).has_role(Role.PROTECTION_MANAGER),
        },
    )


# --------------------------------------------------------------------------- case and assessments


@with_purpose(find_visible_case)
def case_risk(request: AuthenticatedRequest, purpose: str, risk_case_id: UUID) -> HttpResponse:
    user = user_of(request)
    risk = selectors.case_risk(user, risk_case_id, purpose)
    matrices = selectors.assessment_matrices(risk.current) if risk.current else None
    return page(
        request,
        "risk/case.html",
        {
            "risk": risk,
            "case": risk.case,
            "matrices": matrices,
            "may_draft": permissions.may_draft(user),
            "movable": {m.pk for m in risk.measures if permissions.measure_moves(user, m)},
            **marking_context(risk.case.marking),
        },
    )


def drafter(request: AuthenticatedRequest) -> None:
    if not user_of(request).has_role(*services.DRAFTING_ROLES):
        raise PermissionDenied


def assessment_new(request: AuthenticatedRequest, risk_case_id: UUID) -> HttpResponse:
    user = user_of(request)
    case = find_visible_case(user, risk_case_id)
    drafter(request)
    form = forms.AssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        drafted: list[RiskAssessment] = []
        if submitted(
            request,
            form,
            lambda: drafted.append(services.start_assessment(user, case.pk, **form.service_data())),
        ):
            messages.success(request, f"Version {drafted[0].number} drafted")
            return redirect("risk:assessment", assessment_id=drafted[0].pk)
    return page(
        request,
        "risk/assessment_form.html",
        {"form": form, "case": case, "title": "New risk assessment version"},
    )


@with_purpose(selectors.find_assessment)
def assessment(request: AuthenticatedRequest, purpose: str, assessment_id: UUID) -> HttpResponse:
    return assessment_page(request, purpose, assessment_id)


def assessment_page(
    request: AuthenticatedRequest,
    purpose: str,
    assessment_id: UUID,
    comments_form: forms.CommentsForm | None = None,
) -> HttpResponse:
    """The assessment; with a refused approval, endorsement or return, its comments form
    carries the refusal into the page's error summary (status 400)."""
    user = user_of(request)
    found = selectors.get_assessment(user, assessment_id, purpose)
    before, after = selectors.assessment_matrices(found)
    roles = services.team_roles(user, found.case_id)
    return page(
        request,
        "risk/assessment.html",
        {
            "assessment": found,
            "case": found.case,
            "before": before,
            "after": after,
            "band": selectors.band_label(found),
            "residual_band": selectors.band_label(found, residual=True),
            "may_draft": permissions.may_edit_assessment(user, found),
            "may_approve": user.has_role(Role.PROTECTION_MANAGER)
            and "manager" in roles
            and found.status == Status.SUBMITTED,
            "may_endorse": user.has_role(Role.AUTHORISING_OFFICER)
            and "authorising" in roles
            and found.status == Status.APPROVED,
            "comments_form": comments_form or forms.CommentsForm(),
            **marking_context(found.marking),
        },
        status=400 if comments_form is not None else 200,
    )


def editable(request: AuthenticatedRequest, assessment_id: UUID) -> RiskAssessment | HttpResponse:
    """The assessment a drafter's form changes, or the way back to it when it may not be
    edited."""
    user = user_of(request)
    found = selectors.find_assessment(user, assessment_id)
    drafter(request)
    if not permissions.may_edit_assessment(user, found):
        return read_only(request, found)
    return found


def assessment_edit(request: AuthenticatedRequest, assessment_id: UUID) -> HttpResponse:
    user = user_of(request)
    found = editable(request, assessment_id)
    if isinstance(found, HttpResponse):
        return found
    initial = {name: getattr(found, name) for name in services.ASSESSMENT_FIELDS}
    form = forms.AssessmentForm(request.POST or None, initial=initial)
    if submitted(
        request,
        form,
        lambda: services.update_assessment(
            user, found.pk, version=found.version, **form.service_data()
        ),
        "Draft saved",
        shown=(services.ConflictError,),
    ):
        return redirect("risk:assessment", assessment_id=found.pk)
    return page(
        request,
        "risk/assessment_form.html",
        {"form": form, "case": found.case, "title": f"Change draft version {found.number}"},
    )


def read_only(request: HttpRequest, found: RiskAssessment) -> HttpResponse:
    """A version that cannot change opens no form: back to it, saying why."""
    messages.info(
        request,
        f"Version {found.number} is {found.get_status_display().lower()} and cannot be changed"
        + (": start a new version instead" if not found.editable else ""),
    )
    return redirect("risk:assessment", assessment_id=found.pk)


def record_form(
    form_class: type[Any], action: Callable[..., Any], title: str, done: str
) -> Callable[..., HttpResponse]:
    """The page that adds a record (`action`, a service) to an assessment while it may be
    edited."""

    def view(request: AuthenticatedRequest, assessment_id: UUID) -> HttpResponse:
        user = user_of(request)
        found = editable(request, assessment_id)
        if isinstance(found, HttpResponse):
            return found
        form = form_class(request.POST or None)
        if submitted(request, form, lambda: action(user, found.pk, **form.cleaned_data), done):
            return redirect("risk:assessment", assessment_id=found.pk)
        return page(
            request,
            "risk/record_form.html",
            {"form": form, "case": found.case, "assessment": found, "title": title},
        )

    view.__name__ = view.__qualname__ = f"{action.__name__}_page"
    return view


threat_add = record_form(forms.ThreatForm, services.add_threat, "Add a threat", "Threat added")
vulnerability_add = record_form(
    forms.VulnerabilityForm,
    services.add_vulnerability,
    "Add a vulnerability",
    "Vulnerability added",
)


# --------------------------------------------------------------------------- corrections
#
# A threat or vulnerability is corrected or ended on its own page while the assessment may be
# edited (permissions.may_edit_assessment), with the version read and a reason; its history
# page shows every earlier version (haven.revisions).

HISTORY_LABELS = {
    "threat": {
        "source": "Source",
        "capability": "Capability",
        "intent": "Intent",
        "linked_people": "Linked people",
        "likelihood": "Likelihood",
        "impact": "Impact",
        "residual_likelihood": "Likelihood after controls",
        "residual_impact": "Impact after controls",
        "ended_at": "Ended",
    },
    "vulnerability": {"description": "Vulnerability", "ended_at": "Ended"},
}


def item_check(kind: str) -> Callable[[User, UUID, UUID], Any]:
    """404 for a threat or vulnerability the user may not see (before asking the purpose)."""
    return lambda user, assessment_id, item_id: selectors.find_risk_item(
        selectors.find_assessment(user, assessment_id), kind, item_id
    )


def item_summary(kind: str, item: Any) -> str:
    return f"{item.ref}: {item.source}" if kind == "threat" else item.description


def item_initial(kind: str, item: Any) -> dict[str, Any]:
    if kind == "vulnerability":
        return {"version": item.version, "description": item.description}
    return {
        "version": item.version,
        "source": item.source,
        "capability": item.capability,
        "intent": item.intent,
        "linked_people": ", ".join(item.linked_people or []),
        **{name: str(getattr(item, name)) for name in services.THREAT_FIELDS[4:]},
    }


# How each kind of risk record is corrected (ending is one service for both).
CORRECTIONS = {"threat": services.correct_threat, "vulnerability": services.correct_vulnerability}


def item_change(
    request: AuthenticatedRequest,
    purpose: str,
    assessment_id: UUID,
    kind: str,
    item_id: UUID,
    *,
    end: bool,
) -> HttpResponse:
    """Correct (or, with `end`, end) a threat or vulnerability, refused before the form is
    shown when the assessment may not be edited or the record has ended."""
    user = user_of(request)
    assessment, item, _ = selectors.get_risk_item(user, assessment_id, kind, item_id, purpose)
    drafter(request)
    if not permissions.may_edit_assessment(user, assessment):
        return read_only(request, assessment)
    if item.ended_at is not None:
        messages.info(request, f"This {kind} has been ended and can no longer be changed")
        return redirect("risk:assessment", assessment_id=assessment.pk)
    form_class: type[Any] = (
        forms.EndRiskItemForm
        if end
        else forms.ThreatCorrectionForm
        if kind == "threat"
        else forms.VulnerabilityCorrectionForm
    )
    form = form_class(request.POST or None, initial=item_initial(kind, item))
    change = (
        partial(services.end_risk_item, user, assessment.pk, kind, item.pk)
        if end
        else partial(CORRECTIONS[kind], user, assessment.pk, item.pk)
    )
    done = f"{kind.capitalize()} {'ended' if end else 'corrected'}"
    if corrected(request, form, change, done):
        return redirect("risk:assessment", assessment_id=assessment.pk)
    verb = ("Withdraw" if kind == "threat" else "End") if end else "Correct"
    return page(
        request,
        "risk/record_form.html",
        {
            "form": form,
            "case": assessment.case,
            "assessment": assessment,
            "title": f"{verb} a {kind}",
            "record_summary": item_summary(kind, item) if end else "",
            "submit_label": f"{verb} the {kind}" if end else "Save the correction",
            "history_url": reverse(f"risk:{kind}_history", args=[assessment.pk, item.pk]),
            **marking_context(assessment.marking),
        },
        status=400 if form.errors else 200,
    )


def item_history(
    request: AuthenticatedRequest, purpose: str, assessment_id: UUID, kind: str, item_id: UUID
) -> HttpResponse:
    """Every earlier version of a threat or vulnerability: who changed it, when and why."""
    user = user_of(request)
    assessment, item, revisions = selectors.get_risk_item(
        user, assessment_id, kind, item_id, purpose, history=True
    )
    return page(
        request,
        "risk/item_history.html",
        {
            "assessment": assessment,
            "case": assessment.case,
            "kind": kind,
            "item": item,
            "summary": item_summary(kind, item),
            "versions": history_rows(revisions, HISTORY_LABELS[kind], history_text),
            "may_change": permissions.may_edit_assessment(user, assessment)
            and item.ended_at is None,
            **marking_context(assessment.marking),
        },
    )


def history_text(name: str, value: object) -> str:
    if value in (None, "", []):
        return "Not recorded"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _item_pages(kind: str) -> tuple[Callable[..., HttpResponse], ...]:
    """The correction, ending and history pages of one kind of risk record, a threat or a
    vulnerability (its id comes in the URL as ``<kind>_id``)."""

    def made(name: str, show: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def view(
            request: AuthenticatedRequest, purpose: str, assessment_id: UUID, **item: UUID
        ) -> HttpResponse:
            return show(request, purpose, assessment_id, kind, item[f"{kind}_id"])

        view.__name__ = view.__qualname__ = f"{kind}_{name}"
        return with_purpose(item_check(kind))(view)

    return (
        made("edit", partial(item_change, end=False)),
        made("end", partial(item_change, end=True)),
        made("history", item_history),
    )


threat_edit, threat_end, threat_history = _item_pages("threat")
vulnerability_edit, vulnerability_end, vulnerability_history = _item_pages("vulnerability")


notice_add = record_form(
    forms.NoticeForm, services.record_notice, "Record a threat-to-life notice", "Notice recorded"
)


def workflow(request: AuthenticatedRequest, assessment_id: UUID, step: str) -> HttpResponse:
    user = user_of(request)
    form = forms.CommentsForm(request.POST)
    comments = form.cleaned_data["comments"] if form.is_valid() else ""
    actions: dict[str, tuple[Callable[[], Any], str]] = {
        "submit": (lambda: services.submit_assessment(user, assessment_id), "Submitted"),
        "approve": (lambda: services.approve_assessment(user, assessment_id, comments), "Approved"),
        "endorse": (lambda: services.endorse_assessment(user, assessment_id, comments), "Endorsed"),
        "return": (
            lambda: services.return_assessment(user, assessment_id, comments),
            "Returned with comments",
        ),
    }
    action, done = actions[step]
    try:
        action()
    except ValidationError as error:
        purpose = session_purpose(request)
        if step != "submit" and purpose is not None:  # shown on the form, in its summary
            add_form_errors(form, error)
            return assessment_page(request, purpose, assessment_id, comments_form=form)
        messages.error(request, "; ".join(error.messages))
    except services.ConflictError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("risk:assessment", assessment_id=assessment_id)


def _step(name: str, step: str) -> Callable[..., HttpResponse]:
    """The button of one step of the assessment's workflow (POST only)."""

    def view(request: AuthenticatedRequest, assessment_id: UUID) -> HttpResponse:
        return workflow(request, assessment_id, step)

    view.__name__ = view.__qualname__ = name
    return require_POST(view)


submit = _step("submit", "submit")
approve = _step("approve", "approve")
endorse = _step("endorse", "endorse")
return_assessment = _step("return_assessment", "return")


def pdf_response(name: str, data: bytes) -> HttpResponse:
    return attachment(data, name, "application/pdf")


@require_GET
@with_purpose(selectors.find_assessment)
def assessment_pdf(
    request: AuthenticatedRequest, purpose: str, assessment_id: UUID
) -> HttpResponse:
    return pdf_response(*reports.assessment_pdf(user_of(request), assessment_id, purpose))


@require_GET
@with_purpose(find_visible_case)
def plan_pdf(request: AuthenticatedRequest, purpose: str, risk_case_id: UUID) -> HttpResponse:
    return pdf_response(*reports.plan_pdf(user_of(request), risk_case_id, purpose))


# --------------------------------------------------------------------------- measures


def measure_add(request: AuthenticatedRequest, risk_case_id: UUID) -> HttpResponse:
    user = user_of(request)
    case = find_visible_case(user, risk_case_id)
    drafter(request)
    team = team_users(case.pk)
    form = forms.MeasureForm(
        request.POST or None,
        catalogue=selectors.catalogue(),
        team=team,
        statuses=permissions.new_measure_statuses(user),
        initial={"owner": str(user.pk)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner = next((u for u in team if str(u.pk) == data["owner"]), None)
        if submitted(
            request,
            form,
            lambda: services.add_measure(
                user,
                case.pk,
                measure_type=data["measure_type"],
                owner=owner,
                details=data["details"],
                controls=data["controls"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                cost_pence=int((data["cost"] or Decimal(0)) * 100),
                status=data["status"],
            ),
            "Measure added to the package",
        ):
            return redirect(reverse("risk:case", args=[case.pk]) + "#measures")
    return page(
        request,
        "risk/record_form.html",
        {"form": form, "case": case, "title": "Add a protective measure"},
    )


def measure_status(request: AuthenticatedRequest, measure_id: UUID) -> HttpResponse:
    user = user_of(request)
    measure = selectors.find_measure(user, measure_id)
    drafter(request)
    form = forms.MeasureStatusForm(
        request.POST or None,
        initial={"version": measure.version},
        prefix=str(measure.pk),
        moves=permissions.measure_moves(user, measure),
    )
    if submitted(
        request,
        form,
        lambda: services.change_measure_status(user, measure.pk, **form.cleaned_data),
        "Status changed",
        shown=(services.ConflictError,),
    ):
        return redirect(reverse("risk:case", args=[measure.case_id]) + "#measures")
    return page(
        request,
        "risk/record_form.html",
        {
            "form": form,
            "case": measure.case,
            "title": f"Change the status of {measure.measure_type}",
        },
    )


# --------------------------------------------------------------------------- decision log


@with_purpose(find_visible_case)
def decision_add(request: AuthenticatedRequest, purpose: str, risk_case_id: UUID) -> HttpResponse:
    user = user_of(request)
    entries = selectors.decision_log(user, risk_case_id, purpose)
    case = find_visible_case(user, risk_case_id)
    team = team_users(case.pk)
    form = forms.DecisionForm(
        request.POST or None,
        team=team,
        entries=entries,
        initial={
            "decided_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "decision_maker": str(user.pk),
            "corrects": request.GET.get("corrects", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_decision(
                user,
                case.pk,
                decided_at=data["decided_at"],
                decision_maker=next((u for u in team if str(u.pk) == data["decision_maker"]), None),
                ndm_stage=data["ndm_stage"],
                decision=data["decision"],
                rationale=data["rationale"],
                options_rejected=data["options_rejected"],
                corrects=data["corrects"] or None,
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            messages.success(request, "Entry added to the decision log")
            return redirect(reverse("risk:case", args=[case.pk]) + "#decisions")
    return page(
        request,
        "risk/record_form.html",
        {"form": form, "case": case, "title": "Add a decision-log entry"},
    )


def catalogue_manager(request: AuthenticatedRequest) -> User:
    user = user_of(request)
    if not permissions.may_manage_catalogue(user):
        raise PermissionDenied
    return user


def catalogue(request: AuthenticatedRequest) -> HttpResponse:
    user = catalogue_manager(request)
    form = forms.CatalogueForm(request.POST or None)
    if submitted(
        request,
        form,
        lambda: services.add_catalogue_measure(user, **form.cleaned_data),
        "Measure added to the catalogue",
    ):
        return redirect("risk:catalogue")
    return page(
        request,
        "risk/catalogue.html",
        {"form": form, "measures": selectors.catalogue(include_inactive=True)},
    )


def catalogue_change(request: AuthenticatedRequest, code: str, retire: bool) -> HttpResponse:
    """Correct or retire a catalogue entry (never deleted), with the version read and a
    reason; a retired one is no longer offered for new measures."""
    user = catalogue_manager(request)
    measure_type = selectors.catalogue_entry(code)
    if retire and not measure_type.active:
        raise selectors.RiskRecordNotFound("No such measure in the catalogue")
    form: forms.CatalogueRetireForm | forms.CatalogueCorrectionForm
    if retire:
        form = forms.CatalogueRetireForm(
            request.POST or None, initial={"version": measure_type.version}
        )
    else:
        initial = {
            "version": measure_type.version,
            **model_to_dict(measure_type, fields=("name", "description")),
        }
        form = forms.CatalogueCorrectionForm(request.POST or None, initial=initial)
    change = services.retire_catalogue_measure if retire else services.correct_catalogue_measure
    done = f"{measure_type.name} retired" if retire else "Measure corrected"
    if corrected(request, form, partial(change, user, code), done):
        return redirect("risk:catalogue")
    verb = "Retire" if retire else "Change"
    return page(
        request,
        "risk/catalogue_form.html",
        {"form": form, "measure_type": measure_type, "retire": retire, "verb": verb},
        status=400 if form.errors else 200,
    )


def catalogue_edit(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return catalogue_change(request, code, retire=False)


def catalogue_retire(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return catalogue_change(request, code, retire=True)

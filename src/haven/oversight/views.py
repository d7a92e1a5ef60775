"""Oversight pages, mounted behind the oversight gate (haven/urls.py); reads go through
selectors (ledger consultation entries), writes through services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from haven import csvfiles
from haven.accounts.roles import Module
from haven.accounts.types import AuthenticatedRequest
from haven.timelimits import RULES
from haven.ui.helpers import (
    add_form_errors,
    attachment,
    confirmation,
    confirmed,
    query_without_page,
    safe_filename,
    search_answers,
)
from haven.vault import documents
from haven.workflow import TransitionTable

from . import (
    config,
    forms,
    imports,
    performance,
    permissions,
    selectors,
    services,
    statistics,
    workflow,
)
from .models import Complaint, ComplaintStatus, ComplaintSubject, ReviewStatus

NAV = {"nav_active": Module.OVERSIGHT, "classification": "OFFICIAL-SENSITIVE"}


def _submit(form: Any, action: Callable[[dict[str, Any]], Any]) -> Any:
    """Run a service with the cleaned data; on refusal put its errors on the form."""
    if not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except ValidationError as error:
        add_form_errors(form, error)
        return None


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {**NAV, **context})


def _form_page(
    request: HttpRequest, form: Any, title: str, submit: str, back: str, caption: str = ""
) -> HttpResponse:
    return _page(
        request,
        "oversight/form.html",
        {"form": form, "title": title, "submit": submit, "back": back, "caption": caption},
    )


def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    overdue = statistics.build("overdue")
    return _page(
        request,
        "oversight/home.html",
        {
            "open_complaints": selectors.complaints_for(user)
            .exclude(status=ComplaintStatus.CLOSED)
            .count(),
            "open_reviews": selectors.open_reviews(user).count(),
            "hearings": selectors.hearings(user).exclude(status="final").count(),
            "overdue": overdue,
            "awaiting": selectors.awaiting_oversight(user),
            "horizon": selectors.awaiting_horizon(),
        },
    )


def rules(request: AuthenticatedRequest) -> HttpResponse:
    return _page(
        request,
        "oversight/rules.html",
        {
            "time_limits": [rule for versions in RULES.values() for rule in versions],
            "panel_models": [
                {**model.__dict__, "rank_label": config.RANK_LABELS[model.rank]}
                for model in config.PANEL_MODELS
            ],
            "panel_key": config.PANEL_MODEL_KEY,
            "forfeiture_limits": config.FORFEITURE_LIMITS,
            "disclosure": config.disclosure_policy(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Complaints


# A complainant's name travels only in a POST body (ComplainantSearchForm), never in a URL.
PERSONAL_QUERY = frozenset({"complainant"})


def _refuse_personal_query(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {
            "title": "Search for a complainant with the form on the Complaints page, "
            "not in the web address",
            "detail": "Nothing was searched.",
        },
        status=400,
    )


def _search(
    request: HttpRequest, person: forms.ComplainantSearchForm | None = None
) -> tuple[forms.SearchForm, selectors.ComplaintSearch]:
    form = forms.SearchForm(request.GET or None)
    return form, selectors.ComplaintSearch(**search_answers(form, person))


def complaints(request: AuthenticatedRequest) -> HttpResponse:
    if PERSONAL_QUERY & set(request.GET):
        return _refuse_personal_query(request)
    person = forms.ComplainantSearchForm(request.POST if request.method == "POST" else None)
    form, search = _search(request, person)
    page = selectors.list_complaints(request.user, search, request.GET.get("page"))
    return _page(
        request,
        "oversight/complaints.html",
        {
            "form": form,
            "person_form": person,
            "person_search": bool(search.complainant),
            "page": page,
            "query": query_without_page(request),
        },
    )


def complaints_csv(request: AuthenticatedRequest) -> HttpResponse:
    if PERSONAL_QUERY & set(request.GET):
        return _refuse_personal_query(request)
    _, search = _search(request)
    rows = selectors.export_complaints(request.user, search)
    return csvfiles.csv_response(
        "complaints.csv",
        ["reference", "force_reference", "received_on", "status", "category", "outcome"],
        (
            [c.reference, c.force_reference, c.received_on, c.status, c.category, c.outcome]
            for c in rows
        ),
    )


def complaint_new(request: AuthenticatedRequest) -> HttpResponse:
    form = forms.ComplaintForm(request.POST or None)
    if request.method == "POST":
        complaint = _submit(
            form,
            lambda data: services.create_complaint(
                request.user, **{**data, "review_body": data["review_body"] or None}
            ),
        )
        if complaint:
            messages.success(request, f"Complaint {complaint.reference} recorded.")
            return redirect("oversight:complaint", complaint_id=complaint.pk)
    return _page(request, "oversight/complaint_form.html", {"form": form})


def complaint(request: AuthenticatedRequest, complaint_id: UUID) -> HttpResponse:
    user = request.user
    item = selectors.get_complaint(user, complaint_id)
    table = workflow.complaint_transitions(item.subject)
    allowed = table.targets_for(user.roles, item.status)
    today = timezone.localdate()
    actions = [
        (
            code,
            label,
            forms.ActionDateForm(code=code, initial={"on": today})
            if code in forms.ACTION_DATES
            else None,
        )
        for code, (target, label) in workflow.SIMPLE_COMPLAINT_ACTIONS.items()
        if target in allowed and not item.against_commissioner
    ]
    return _page(
        request,
        "oversight/complaint.html",
        {
            "complaint": item,
            "deadlines": selectors.complaint_deadlines(item),
            "actions": actions,
            "reviews": [(r, [selectors.review_deadline(r)]) for r in item.reviews.all()],
            "may_outcome": ComplaintStatus.OUTCOME_NOTIFIED in allowed,
            "may_review": ComplaintStatus.REVIEW_WINDOW in allowed,
            "may_update": item.status in selectors.UPDATE_STATES,
            "may_investigate": item.status in services.INVESTIGABLE_STATES
            and item.investigation_started_on is None,
            "ReviewStatus": ReviewStatus,
            "today": timezone.localdate(),
            "classification": item.marking,
            "notes": selectors.get_notes(user, item),
            "documents": selectors.get_documents(user, item),
            "may_assign": permissions.may_assign(user),
            "steps": _next_steps(item, table),
            "commissioner_steps": [
                (s.step, s.label) for s in selectors.commissioner_steps(user, item)
            ],
        },
    )


def _next_steps(item: Complaint, table: TransitionTable) -> list[tuple[str, str, str]]:
    """Where this body decides (a complaint about the chief officer or the Commissioner):
    each next step, who takes it and its source."""
    if item.subject == ComplaintSubject.OFFICER:
        return []
    rows = []
    for target in table.targets_from(item.status):
        rule = table[(item.status, target)]
        if target == ComplaintStatus.PANEL_OUTCOME:
            who = "The police and crime panel decides; any oversight officer records it"
        elif rule.roles and item.against_commissioner:
            who = "Head of oversight (under the panel's delegation)"
        else:
            who = "Head of oversight" if rule.roles else "Any oversight officer"
        rows.append((table.label(target), who, rule.citation))
    return rows


def complaint_commissioner_step(
    request: AuthenticatedRequest, complaint_id: UUID, step: str
) -> HttpResponse:
    """One step on a complaint about the Commissioner (ELPB Regs 2012), on a page of its own."""
    user = request.user
    item = selectors.find_complaint(user, complaint_id)
    table = workflow.COMMISSIONER_COMPLAINT_TRANSITIONS
    target = (
        workflow.commissioner_step_target(item.status, step) if item.against_commissioner else None
    )
    rule = table.rule(item.status, target) if target else None
    if rule is None or not rule.permits(user.roles):
        messages.error(request, "That step cannot be taken on this complaint now.")
        return redirect("oversight:complaint", complaint_id=item.pk)
    form = forms.CommissionerStepForm(
        request.POST or None,
        step=step,
        required=rule.required_fields,
        initial={"on": timezone.localdate()},
    )
    if request.method == "POST" and _submit(
        form, lambda data: services.take_commissioner_step(user, item.pk, step, **data)
    ):
        messages.success(request, "Complaint updated.")
        return redirect("oversight:complaint", complaint_id=item.pk)
    back = reverse("oversight:complaint", args=[item.pk])
    title = config.COMMISSIONER_COMPLAINT_STEPS[step].label
    return _form_page(request, form, title, "Save", back, caption=item.reference)


# Final steps a complaint cannot come back from: each is confirmed on a page of its own.
FINAL_COMPLAINT_ACTIONS = frozenset({"refer_iopc", "handled", "close"})


@require_POST
def complaint_action(request: AuthenticatedRequest, complaint_id: UUID) -> HttpResponse:
    item = selectors.find_complaint(request.user, complaint_id)
    dated = forms.ActionDateForm(request.POST)
    if not dated.is_valid():
        for error in dated.errors.get("on", ["Enter a real date"]):
            messages.error(request, str(error))
        return redirect("oversight:complaint", complaint_id=item.pk)
    on = dated.cleaned_data["on"]
    action = request.POST.get("action", "")
    if action in FINAL_COMPLAINT_ACTIONS and not confirmed(request):
        label = workflow.SIMPLE_COMPLAINT_ACTIONS[action][1]
        return confirmation(
            request,
            question=f"{label}: {item.reference}?",
            yes=f"Yes, {label[0].lower()}{label[1:]}",
            back_url=reverse("oversight:complaint", args=[item.pk]),
            hidden={"action": action, "on": on.isoformat() if on else ""},
            details=[
                ("Complaint", item.reference),
                ("Date", f"{on.day} {on:%B %Y}" if on else "Today"),
            ],
            warning="This is final: the complaint cannot be moved back.",
        )
    try:
        services.act_on_complaint(
            request.user,
            item.pk,
            request.POST.get("action", ""),
            request.POST.get("note", "")[:300],
            on=on,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Complaint updated.")
    return redirect("oversight:complaint", complaint_id=item.pk)


@dataclass(frozen=True)
class _OneForm:
    """The page of one form about a complaint or one of its review applications: a valid POST
    runs ``service(user, pk, **data)`` on it (a refusal's errors go on the form), then the
    complaint page follows."""

    form_class: type
    title: str
    submit: str
    service: Callable[..., Any]

    def page(self, request: AuthenticatedRequest, target_pk: UUID, complaint: Any) -> HttpResponse:
        form = self.form_class(request.POST or None)
        if request.method == "POST" and _submit(
            form, lambda d: self.service(request.user, target_pk, **d)
        ):
            messages.success(request, f"{self.title}: saved.")
            return redirect("oversight:complaint", complaint_id=complaint.pk)
        back = f"/oversight/complaints/{complaint.pk}/"
        return _form_page(request, form, self.title, self.submit, back, complaint.reference)


def _complaint_form(*spec: Any) -> Callable[[AuthenticatedRequest, UUID], HttpResponse]:
    def view(request: AuthenticatedRequest, complaint_id: UUID) -> HttpResponse:
        item = selectors.find_complaint(request.user, complaint_id)
        return _OneForm(*spec).page(request, item.pk, item)

    return view


def _review_form(*spec: Any) -> Callable[[AuthenticatedRequest, UUID], HttpResponse]:
    def view(request: AuthenticatedRequest, review_id: UUID) -> HttpResponse:
        review = selectors.find_review(request.user, review_id)
        return _OneForm(*spec).page(request, review.pk, review.complaint)

    return view


complaint_outcome = _complaint_form(
    forms.OutcomeForm, "Record the outcome", "Save outcome", services.record_outcome
)
complaint_investigation = _complaint_form(
    forms.InvestigationForm,
    "Record that the complaint is being investigated",
    "Save",
    services.record_investigation,
)
complaint_update = _complaint_form(
    forms.UpdateForm, "Record an update to the complainant", "Save update", services.record_update
)
review_new = _complaint_form(
    forms.ReviewForm,
    "Record a review application",
    "Save application",
    services.record_review_application,
)


review_extend = _review_form(
    forms.ExtendForm, "Extend the time limit", "Save extension", services.extend_review
)
review_determine = _review_form(
    forms.DetermineForm, "Determine the review", "Save determination", services.determine_review
)
review_response = _review_form(
    forms.ResponseForm,
    "Record the force's response",
    "Save response",
    services.record_force_response,
)


@require_POST
def review_refuse(request: AuthenticatedRequest, review_id: UUID) -> HttpResponse:
    review = selectors.find_review(request.user, review_id)
    try:
        services.refuse_review_out_of_time(request.user, review.pk)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Application refused as out of time; complaint closed.")
    return redirect("oversight:complaint", complaint_id=review.complaint_id)


# ---------------------------------------------------------------------------------------------
# Panel registers and misconduct hearings


def panel_members(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = forms.PanelMemberForm(request.POST or None)
    if request.method == "POST" and _submit(form, lambda d: services.add_panel_member(user, **d)):
        messages.success(request, "Panel member added to the register.")
        return redirect("oversight:panel_members")
    return _page(
        request,
        "oversight/panel_members.html",
        {"form": form, "members": selectors.panel_members(user), "today": timezone.localdate()},
    )


def panel_member(request: AuthenticatedRequest, member_id: UUID) -> HttpResponse:
    user = request.user
    member = selectors.get_panel_member(user, member_id)
    posted = request.POST if request.method == "POST" else None
    which = request.POST.get("form", "")
    interest = forms.InterestForm(posted if which == "interest" else None, prefix="interest")
    absence = forms.UnavailabilityForm(posted if which == "absence" else None, prefix="absence")
    training = forms.TrainingForm(posted if which == "training" else None, prefix="training")
    if posted is not None:
        done = None
        if which == "training":
            done = _submit(training, lambda d: services.record_training(user, member.pk, **d))
        if which == "interest":
            done = _submit(interest, lambda d: services.declare_interest(user, member.pk, **d))
        elif which == "absence":
            done = _submit(absence, lambda d: services.record_unavailability(user, member.pk, **d))
        if done:
            messages.success(request, "Register updated.")
            return redirect("oversight:panel_member", member_id=member.pk)
    return _page(
        request,
        "oversight/panel_member.html",
        {
            "member": member,
            "interest_form": interest,
            "absence_form": absence,
            "training_form": training,
            "form": {"interest": interest, "training": training}.get(which, absence),
        },
    )


def hearings(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = forms.HearingForm(request.POST or None)
    if request.method == "POST":
        hearing = _submit(form, lambda d: services.create_hearing(user, **d))
        if hearing:
            messages.success(request, f"Misconduct case {hearing.reference} recorded.")
            return redirect("oversight:hearing", hearing_id=hearing.pk)
    return _page(
        request,
        "oversight/hearings.html",
        {
            "form": form,
            "hearings": selectors.hearings(user),
            "panel_titles": {model.code: model.title for model in config.PANEL_MODELS},
        },
    )


def hearing(request: AuthenticatedRequest, hearing_id: UUID) -> HttpResponse:
    user = request.user
    item = selectors.get_hearing(user, hearing_id)
    which = request.POST.get("form", "") if request.method == "POST" else ""
    posted = request.POST if request.method == "POST" else None
    allowed = sorted(workflow.HEARING_TRANSITIONS.targets_from(item.status))
    panel = forms.AppointPanelForm(posted if which == "panel" else None, hearing=item, prefix="p")
    member = forms.AppointMemberForm(
        posted if which == "member" else None, hearing=item, prefix="m"
    )
    advance = forms.AdvanceHearingForm(
        posted if which == "advance" else None, allowed=allowed, prefix="a"
    )
    facts = selectors.hearing_facts_open(item)
    fact = forms.HearingFactForm(posted if which == "fact" else None, facts=facts, prefix="f")
    if posted is not None:
        done = None
        if which == "panel":
            done = _submit(
                panel,
                lambda d: services.appoint_panel(
                    user, item.pk, method=d["method"], seed=d["seed"], nominees=panel.nominees()
                ),
            )
        elif which == "member":
            done = _submit(
                member,
                lambda d: services.appoint_member(
                    user, item.pk, seat=d["seat"], member_id=d["member"].pk, reason=d["reason"]
                ),
            )
        elif which == "advance":
            done = _submit(advance, lambda d: services.advance_hearing(user, item.pk, **d))
        elif which == "fact":
            done = _submit(fact, lambda d: services.record_hearing_fact(user, item.pk, **d))
        if done:
            messages.success(request, "Misconduct case updated.")
            return redirect("oversight:hearing", hearing_id=item.pk)
    return _page(
        request,
        "oversight/hearing.html",
        {
            "hearing": item,
            "model": config.panel_model(item.panel_model),
            "seats": selectors.panel_seats(item),
            "deadlines": selectors.hearing_deadlines(item),
            "panel_form": panel,
            "member_form": member,
            "advance_form": advance,
            "fact_form": fact if facts else None,
            "allowed": allowed,
            "form": {"panel": panel, "member": member, "advance": advance, "fact": fact}.get(which),
        },
    )


# ---------------------------------------------------------------------------------------------
# Tribunals and pension forfeiture


def tribunals(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = forms.TribunalForm(request.POST or None)
    if request.method == "POST":
        tribunal = _submit(
            form,
            lambda d: services.create_tribunal(
                user,
                **{k: v for k, v in d.items() if k != "hearing"},
                hearing_id=d["hearing"].pk if d["hearing"] else None,
            ),
        )
        if tribunal:
            messages.success(request, f"Tribunal {tribunal.reference} recorded.")
            return redirect("oversight:tribunal", tribunal_id=tribunal.pk)
    return _page(
        request, "oversight/tribunals.html", {"form": form, "tribunals": selectors.tribunals(user)}
    )


def tribunal(request: AuthenticatedRequest, tribunal_id: UUID) -> HttpResponse:
    user = request.user
    item = selectors.get_tribunal(user, tribunal_id)
    form = forms.TribunalDetermineForm(request.POST or None)
    if request.method == "POST" and _submit(
        form, lambda d: services.determine_tribunal(user, item.pk, **d)
    ):
        messages.success(request, "Determination recorded.")
        return redirect("oversight:tribunal", tribunal_id=item.pk)
    return _page(
        request,
        "oversight/tribunal.html",
        {"tribunal": item, "form": form, "deadlines": selectors.tribunal_deadlines(item)},
    )


def forfeitures(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = forms.ForfeitureForm(request.POST or None)
    if request.method == "POST":
        case = _submit(form, lambda d: services.create_forfeiture(user, **d))
        if case:
            messages.success(request, f"Forfeiture case {case.reference} recorded.")
            return redirect("oversight:forfeiture", forfeiture_id=case.pk)
    return _page(
        request,
        "oversight/forfeitures.html",
        {"form": form, "forfeitures": selectors.forfeitures(user)},
    )


def forfeiture(request: AuthenticatedRequest, forfeiture_id: UUID) -> HttpResponse:
    user = request.user
    item = selectors.get_forfeiture(user, forfeiture_id)
    allowed = sorted(workflow.FORFEITURE_TRANSITIONS.targets_from(item.status))
    form = forms.ForfeitureStepForm(request.POST or None, allowed=allowed)
    if request.method == "POST" and _submit(
        form, lambda d: services.forfeiture_step(user, item.pk, **d)
    ):
        messages.success(request, "Forfeiture case updated.")
        return redirect("oversight:forfeiture", forfeiture_id=item.pk)
    return _page(
        request,
        "oversight/forfeiture.html",
        {
            "case": item,
            "form": form,
            "allowed": allowed,
            "limit": selectors.forfeiture_limit_for(item),
            "needs_certificate": item.ground in config.CERTIFICATE_GROUNDS,
        },
    )


# ---------------------------------------------------------------------------------------------
# Statistics, exports and imports


def _stat_options(request: AuthenticatedRequest) -> tuple[forms.StatisticsForm, str, int | None]:
    form = forms.StatisticsForm(request.GET or None)
    characteristic, threshold = "sex", None
    if form.is_valid():
        characteristic = form.cleaned_data["characteristic"] or "sex"
        threshold = form.cleaned_data["threshold"]
    return form, characteristic, threshold


def statistics_view(request: AuthenticatedRequest) -> HttpResponse:
    form, characteristic, threshold = _stat_options(request)
    codes = ["timeliness", "outcomes", "reviews", "overdue", f"workforce-{characteristic}"]
    tables = [statistics.build(code, threshold) for code in codes]
    return _page(
        request,
        "oversight/statistics.html",
        {
            "form": form,
            "tables": tables,
            "policy": config.disclosure_policy(),
            "threshold": tables[0].table.threshold,
            "chart_width": statistics.CHART_WIDTH,
        },
    )


def statistics_export(
    request: AuthenticatedRequest, stat_table: str, export_format: str
) -> HttpResponse:
    if stat_table not in statistics.TABLES or export_format not in ("csv", "pdf"):
        raise Http404("No such table")
    _, _, threshold = _stat_options(request)
    stat = statistics.export(request.user, stat_table, export_format, threshold)
    if export_format == "csv":
        header, *lines = statistics.csv_rows(stat)
        return csvfiles.csv_response(f"{stat_table}.csv", header, lines)
    from weasyprint import HTML

    html = render_to_string(
        "oversight/statistics_pdf.html",
        {"stat": stat, "generated": timezone.localtime(), "user": request.user},
    )
    return attachment(HTML(string=html).write_pdf(), f"{stat_table}.pdf", "application/pdf")


def import_upload(request: AuthenticatedRequest) -> HttpResponse:
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.add_error("file", "The file must be UTF-8 text (CSV)")
        else:
            report = imports.run(
                request.user,
                form.cleaned_data["kind"],
                text,
                dry_run=form.cleaned_data["dry_run"],
            )
    return _page(request, "oversight/import.html", {"form": form, "report": report})


# ---------------------------------------------------------------------------------------------
# Ownership: my work, caseloads, assignment


def my_work(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    return _page(
        request,
        "oversight/my_work.html",
        {
            "complaints": selectors.my_complaints(user),
            "reviews": selectors.my_reviews(user),
            "actions": selectors.my_actions(user),
            "today": timezone.localdate(),
            "may_see_caseloads": permissions.may_see_caseloads(user),
        },
    )


def caseloads(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    if not permissions.may_see_caseloads(user):
        raise Http404("No such page")
    lines, unassigned = selectors.caseloads(user)
    return _page(request, "oversight/caseloads.html", {"lines": lines, "unassigned": unassigned})


def complaint_assign(request: AuthenticatedRequest, complaint_id: UUID) -> HttpResponse:
    user = request.user
    if not permissions.may_assign(user):
        raise Http404("No such page")
    item = selectors.find_complaint(user, complaint_id)
    form = forms.AssignForm(
        request.POST or None, caseworkers=selectors.assignable_caseworkers(item)
    )
    if request.method == "POST" and _submit(
        form,
        lambda d: services.assign_complaint(
            user, item.pk, assignee_id=d["assignee"], reason=d["reason"]
        ),
    ):
        messages.success(request, "Complaint assigned; the caseworker has been told.")
        return redirect("oversight:complaint", complaint_id=item.pk)
    title = "Reassign the complaint" if item.assignee_id else "Assign the complaint"
    return _form_page(
        request, form, title, "Assign", f"/oversight/complaints/{item.pk}/", item.reference
    )


def review_assign(request: AuthenticatedRequest, review_id: UUID) -> HttpResponse:
    user = request.user
    if not permissions.may_assign(user):
        raise Http404("No such page")
    review = selectors.find_review(user, review_id)
    form = forms.AssignForm(
        request.POST or None, caseworkers=selectors.assignable_caseworkers(review.complaint)
    )
    if request.method == "POST" and _submit(
        form,
        lambda d: services.assign_review(
            user, review.pk, assignee_id=d["assignee"], reason=d["reason"]
        ),
    ):
        messages.success(request, "Review application assigned; the caseworker has been told.")
        return redirect("oversight:complaint", complaint_id=review.complaint_id)
    title = "Reassign the review application" if review.assignee_id else "Assign the review"
    back = f"/oversight/complaints/{review.complaint_id}/"
    return _form_page(request, form, title, "Assign", back, review.complaint.reference)


complaint_note = _complaint_form(
    forms.NoteForm,
    "Add a note",
    "Save note",
    lambda user, pk, **d: services.add_note(user, pk, text=d["text"]),
)
complaint_correspondence = _complaint_form(
    forms.CorrespondenceForm,
    "Record correspondence",
    "Save correspondence",
    services.record_correspondence,
)


def complaint_document_add(request: AuthenticatedRequest, complaint_id: UUID) -> HttpResponse:
    user = request.user
    item = selectors.find_complaint(user, complaint_id)
    form = forms.DocumentForm(
        request.POST or None, request.FILES or None, reviews=list(item.reviews.all())
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.upload_document(
                user,
                item.pk,
                title=form.cleaned_data["title"],
                filename=upload.name,
                data=documents.read_upload(upload),
                review_id=form.cleaned_data.get("review") or None,
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            messages.success(request, "Document uploaded.")
            return redirect("oversight:complaint", complaint_id=item.pk)
    return _page(
        request,
        "oversight/form.html",
        {
            "form": form,
            "title": "Upload a document",
            "submit": "Upload",
            "back": f"/oversight/complaints/{item.pk}/",
            "caption": item.reference,
            "multipart": True,
        },
    )


def complaint_document(
    request: AuthenticatedRequest, complaint_id: UUID, document_id: UUID
) -> HttpResponse:
    document, data = selectors.read_document(request.user, complaint_id, document_id)
    return attachment(data, safe_filename(document.filename), document.content_type)


# ---------------------------------------------------------------------------------------------
# Holding the chief officer to account


def governance(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = forms.MeetingForm(request.POST or None)
    if request.method == "POST":
        meeting = _submit(form, lambda d: services.create_meeting(user, **d))
        if meeting:
            messages.success(request, f"Meeting {meeting.reference} recorded.")
            return redirect("oversight:meeting", meeting_id=meeting.pk)
    return _page(
        request,
        "oversight/governance.html",
        {
            "form": form,
            "meetings": selectors.meetings(user),
            "actions": selectors.open_actions(user),
            "today": timezone.localdate(),
        },
    )


def meeting(request: AuthenticatedRequest, meeting_id: UUID) -> HttpResponse:
    user = request.user
    item = selectors.find_meeting(user, meeting_id)
    decision_form = forms.DecisionForm(
        request.POST if request.POST.get("form") == "decision" else None, prefix="decision"
    )
    action_form = _action_form(request.POST if request.POST.get("form") == "action" else None)
    if request.method == "POST":
        if request.POST.get("form") == "decision" and _submit(
            decision_form, lambda d: services.record_decision(user, item.pk, **d)
        ):
            messages.success(request, "Decision recorded.")
            return redirect("oversight:meeting", meeting_id=item.pk)
        if request.POST.get("form") == "action" and _submit(
            action_form, lambda d: services.add_action(user, item.pk, **d)
        ):
            messages.success(request, "Action recorded; its owner has been told.")
            return redirect("oversight:meeting", meeting_id=item.pk)
    return _meeting_page(request, item, decision_form, action_form)


def _action_form(data: Any) -> forms.ActionForm:
    owners = [p for p in services.oversight_staff() if permissions.may_own_actions(p)]
    return forms.ActionForm(data, owners=owners, prefix="action")


def _done_form(action_id: int, data: Any = None) -> forms.DoneForm:
    """The "Mark as done" form of one action: its own ids, as the page has one per action."""
    return forms.DoneForm(
        data, auto_id=f"done-{action_id}-%s", initial={"completed_on": timezone.localdate()}
    )


def _meeting_page(
    request: AuthenticatedRequest,
    item: Any,
    decision_form: forms.DecisionForm,
    action_form: forms.ActionForm,
    refused_done: forms.DoneForm | None = None,
    refused_action_id: int | None = None,
) -> HttpResponse:
    user = request.user
    actions = item.actions.select_related("owner")
    return _page(
        request,
        "oversight/meeting.html",
        {
            "meeting": item,
            "decision_form": decision_form,
            "action_form": action_form,
            "actions": [
                (a, refused_done if a.pk == refused_action_id else _done_form(a.pk))
                for a in actions
            ],
            "today": timezone.localdate(),
            "may_complete_any": permissions.may_assign(user),
        },
    )


@require_POST
def action_done(request: AuthenticatedRequest, action_id: int) -> HttpResponse:
    user = request.user
    action = selectors.find_action(user, action_id)
    form = _done_form(action.pk, request.POST)
    if _submit(form, lambda d: services.complete_action(user, action.pk, **d)):
        messages.success(request, "Action marked as done.")
        return redirect("oversight:meeting", meeting_id=action.meeting_id)
    # The date is shown again with its error beside it, nothing changed.
    for message in form.non_field_errors():
        messages.error(request, str(message))
    item = selectors.find_meeting(user, action.meeting_id)
    decision_form = forms.DecisionForm(prefix="decision")
    return _meeting_page(request, item, decision_form, _action_form(None), form, action.pk)


def performance_view(request: AuthenticatedRequest) -> HttpResponse:
    return _page(request, "oversight/performance.html", {"report": performance.build()})


def performance_csv(request: AuthenticatedRequest) -> HttpResponse:
    report = performance.export(request.user)
    header, lines = performance.csv_rows(report)
    return csvfiles.csv_response("performance.csv", header, lines)


def tribunal_seat(request: AuthenticatedRequest, tribunal_id: UUID) -> HttpResponse:
    user = request.user
    item = selectors.get_tribunal(user, tribunal_id)
    form = forms.TribunalSeatForm(
        request.POST or None, members=list(selectors.panel_members(user).filter(active=True))
    )
    if request.method == "POST" and _submit(
        form, lambda d: services.seat_tribunal_member(user, item.pk, **d)
    ):
        messages.success(request, "Member seated from the register.")
        return redirect("oversight:tribunal", tribunal_id=item.pk)
    return _form_page(
        request,
        form,
        "Seat a member from the register",
        "Seat member",
        f"/oversight/tribunals/{item.pk}/",
        item.reference,
    )

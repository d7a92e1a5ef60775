"""On-call rota, allowances and welfare pages. Thin: forms in, services and selectors out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from haven import csvfiles
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.accounts.types import AuthenticatedRequest
from haven.concurrency.locking import ConflictError
from haven.revisions import RevisionAction, history_rows
from haven.ui.helpers import (
    action_forms,
    add_form_errors,
    confirmation,
    confirmed,
    created,
    submitted,
)

from . import permissions, selectors, services
from .forms import (
    CompensatoryRestForm,
    LayerForm,
    LeaveForm,
    MonthForm,
    OverrideForm,
    PsychForm,
    RangeForm,
    RotaForm,
    SwapForm,
    TermsForm,
    TierForm,
    WelfareNoteCorrectionForm,
    WelfareNoteForm,
    WithdrawWelfareNoteForm,
    WorkForm,
)
from .models import Rota, ShiftSwap, WelfareNote
from .staff import OPERATIONS, PROTECTION, StaffGroup

NAV = {"nav_active": Module.OPERATIONS}
FEED_SECRET = "haven_new_feed_secret"

# A rota's pages are one set of views mounted once per staff group (staff.py): at
# /operations/rota/ (urls.py, namespace "rota") and at /protection/rota/ (protection_urls.py,
# the same application mounted as "protection_rota"); the group comes from the URL's kwargs and
# `{% url 'rota:…' %}` resolves within the instance being shown.
SUBNAV = {
    OPERATIONS.code: "equipment/includes/subnav.html",
    PROTECTION.code: "rota/protection_nav.html",
}


def _frame(group: StaffGroup) -> dict[str, Any]:
    return {"nav_active": group.module, "rota_subnav": SUBNAV[group.code], "rota_group": group}


def _to(request: HttpRequest, name: str, **kwargs: Any) -> HttpResponse:
    """Redirect to a rota page of the instance (operations or protection) being shown."""
    namespace = request.resolver_match.namespace if request.resolver_match else None
    return redirect(reverse(name, kwargs=kwargs or None, current_app=namespace))


def local_rows(rota: Rota, segments: list[selectors.Segment]) -> list[dict[str, Any]]:
    zone = rota.zone
    return [
        {
            "start": s.starts_at.astimezone(zone),
            "end": s.ends_at.astimezone(zone),
            "user": s.user,
            "source": s.source,
            "hours": round(s.hours, 2),
        }
        for s in segments
    ]


def home(request: AuthenticatedRequest, group: StaffGroup = OPERATIONS) -> HttpResponse:
    user = request.user
    now = timezone.now()
    rotas = [
        {"rota": rota, "on_call": who, "gaps": len(selectors.gaps(rota, now))}
        for rota, who in selectors.on_call_everywhere(user, now, group)
    ]
    mine = selectors.shifts_for(user, now, now + dt.timedelta(days=14), group)
    return render(
        request,
        "rota/home.html",
        {
            **_frame(group),
            "rotas": rotas,
            "pending": selectors.pending_swaps_for(user, group),
            "mine": [(rota, local_rows(rota, [s])[0]) for rota, s in mine],
            "is_supervisor": group.supervises(user),
        },
    )


def rota_new(request: AuthenticatedRequest, group: StaffGroup = OPERATIONS) -> HttpResponse:
    user = request.user
    group.require_supervisor(user)
    form = RotaForm(request.POST or None)
    rota = created(
        request,
        form,
        lambda: services.create_rota(user, group=group, **form.cleaned_data),
        lambda rota: f"Rota {rota.name} created. Add a layer of people next.",
    )
    if rota is not None:
        return _to(request, "rota:detail", rota_id=rota.pk)
    page = {"form": form, "title": "New rota", "submit": "Create rota"}
    return render(request, "ui/form_page.html", {**_frame(group), **page})


def _act(user: User, rota: Rota, action: str, form: Any, group: StaffGroup) -> str:
    data = form.cleaned_data
    if action == "layer":
        members = [User.objects.get(pk=pk) for pk in data.pop("members")]
        services.add_layer(user, rota.pk, members=members, group=group, **data)
        return "Layer added."
    start, end = form.instants(rota.zone)
    span = {"starts_at": start, "ends_at": end, "reason": data["reason"], "group": group}
    if action == "override":
        services.add_override(user, rota.pk, user=User.objects.get(pk=data["user"]), **span)
        return "Override added."
    counterpart = User.objects.get(pk=data["counterpart"])
    services.request_swap(user, rota.pk, counterpart=counterpart, **span)
    return "Swap requested. It takes effect when your colleague accepts."


def rota_detail(
    request: AuthenticatedRequest, rota_id: UUID, group: StaffGroup = OPERATIONS
) -> HttpResponse:
    user = request.user
    rota = selectors.get_rota(user, rota_id, group)
    is_supervisor = group.supervises(user)
    action, forms, form = action_forms(
        request,
        {"layer": LayerForm, "override": OverrideForm, "swap": SwapForm},
        module=group.module,
    )
    if form is not None:
        if action in ("layer", "override") and not is_supervisor:
            form.add_error(None, f"Only {group.supervisor_label} change the rota")
        elif submitted(
            request,
            form,
            lambda: _act(user, rota, action, form, group),
            lambda message: str(message),
        ):
            return _to(request, "rota:detail", rota_id=rota.pk)
    range_form = RangeForm(request.GET or None)
    first = timezone.localtime(timezone.now(), rota.zone).date()
    days = 14
    if range_form.is_valid():
        first = range_form.cleaned_data["start"] or first
        days = range_form.cleaned_data["days"] or days
    start, end = selectors.local_range(rota.zone, first, first + dt.timedelta(days=days - 1))
    segments = selectors.resolve(rota, start, end)
    return render(
        request,
        "rota/detail.html",
        {
            **_frame(group),
            "rota": rota,
            "layers": selectors.rota_layers(rota),
            "rows": local_rows(rota, segments),
            "gaps": local_rows(rota, selectors.gaps(rota)),
            "overrides": rota.overrides.select_related("user").order_by("-starts_at")[:20],
            "swaps": rota.swaps.select_related("requester", "counterpart")[:20],
            "range_form": range_form,
            "forms": forms,
            "form": form,
            "first": first,
            "days": days,
            "is_supervisor": is_supervisor,
            "on_call": selectors.on_call_now(rota),
        },
        status=400 if form is not None and form.errors else 200,
    )


@require_POST
def swap_decide(
    request: AuthenticatedRequest, swap_id: int, group: StaffGroup = OPERATIONS
) -> HttpResponse:
    user = request.user
    swap: ShiftSwap = selectors.get_swap(user, swap_id, group)
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            services.accept_swap(user, swap.pk, group)
            messages.success(request, "Swap accepted: you are on call for that time.")
        elif decision == "decline":
            services.decline_swap(user, swap.pk, group)
            messages.success(request, "Swap declined.")
        else:
            messages.error(request, "Choose to accept or decline the swap.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _to(request, "rota:detail", rota_id=swap.rota_id)


def on_call(request: AuthenticatedRequest, group: StaffGroup = OPERATIONS) -> HttpResponse:
    user = request.user
    now = timezone.now()
    rows = [
        {"rota": rota, "on_call": who, "chain": selectors.escalation_chain(rota, now)}
        for rota, who in selectors.on_call_everywhere(user, now, group)
    ]
    return render(request, "rota/on_call.html", {**_frame(group), "rows": rows, "now": now})


def _month(request: HttpRequest) -> tuple[MonthForm, int, int]:
    form = MonthForm(request.GET or None)
    today = timezone.localdate()
    if form.is_valid() and form.cleaned_data["month"]:
        chosen = form.cleaned_data["month"]
        return form, chosen.year, chosen.month
    return form, today.year, today.month


def allowances(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    is_supervisor = selectors.is_supervisor(user)
    tier_form = TierForm(request.POST or None) if is_supervisor else None
    if tier_form is not None:
        tier = created(
            request,
            tier_form,
            lambda: services.create_allowance_tier(user, **tier_form.cleaned_data),
            lambda tier: f"Allowance tier {tier.name} added.",
        )
        if tier is not None:
            return redirect("rota:allowances")
    form, year, month = _month(request)
    rows = selectors.allowance_summary(user, year, month)
    if request.GET.get("format") == "csv":
        return csvfiles.csv_response(
            f"allowances-{year:04d}-{month:02d}.csv",
            [
                "rota",
                "person",
                "hours on call",
                "days on call",
                "tier",
                "percentage",
                "amount £",
                "citation",
            ],
            (
                [
                    row.rota.name,
                    str(row.person),
                    row.hours,
                    row.days,
                    row.tier.name if row.tier else "",
                    row.percentage or "",
                    row.amount if row.amount is not None else "",
                    row.tier.citation if row.tier else "",
                ]
                for row in rows
            ),
        )
    return render(
        request,
        "rota/allowances.html",
        {
            **NAV,
            "rows": rows,
            "form": tier_form,
            "month_form": form,
            "month": dt.date(year, month, 1),
            "tiers": selectors.allowance_tiers(),
            "is_supervisor": is_supervisor,
        },
        status=400 if tier_form is not None and tier_form.errors else 200,
    )


@dataclass(frozen=True)
class WelfarePages:
    """Where a staff group's welfare pages live and what frames them (staff.py)."""

    group: StaffGroup
    nav: dict[str, Any]
    subnav: str
    dashboard: str
    me: str
    person: str
    note_correct: str
    note_withdraw: str
    note_history: str


OPERATIONS_PAGES = WelfarePages(
    OPERATIONS,
    NAV,
    "equipment/includes/subnav.html",
    "rota:welfare",
    "rota:welfare_me",
    "rota:welfare_person",
    "rota:welfare_note_correct",
    "rota:welfare_note_withdraw",
    "rota:welfare_note_history",
)
# Mounted at /protection/welfare/ behind the protection module's gate (welfare_urls.py).
PROTECTION_PAGES = WelfarePages(
    PROTECTION,
    {"nav_active": Module.PROTECTION},
    "rota/welfare_nav.html",
    "welfare:dashboard",
    "welfare:me",
    "welfare:person",
    "welfare:note_correct",
    "welfare:note_withdraw",
    "welfare:note_history",
)


def _pages_context(pages: WelfarePages, user: User) -> dict[str, Any]:
    return {
        **pages.nav,
        "welfare_subnav": pages.subnav,
        "welfare_person_url": pages.person,
        "welfare_dashboard_url": pages.dashboard,
        "welfare_me_url": pages.me,
        "welfare_note_correct_url": pages.note_correct,
        "welfare_note_withdraw_url": pages.note_withdraw,
        "welfare_note_history_url": pages.note_history,
        "welfare_group": pages.group,
        "is_supervisor": pages.group.supervises(user),
    }


def welfare(request: AuthenticatedRequest, pages: WelfarePages = OPERATIONS_PAGES) -> HttpResponse:
    """A group's supervisors' dashboard of its staff's welfare (protection's: welfare_urls.py)."""
    user = request.user
    people = selectors.welfare_dashboard(user, group=pages.group)
    from .working_time import ruleset_for

    return render(
        request,
        "rota/welfare.html",
        {
            **_pages_context(pages, user),
            "people": people,
            "flagged": sum(1 for p in people if any(not f.resolution for f in p.assessment.flags)),
            "rules": ruleset_for(timezone.localdate()),
        },
    )


def _welfare_page(
    request: AuthenticatedRequest, person_id: int, pages: WelfarePages = OPERATIONS_PAGES
) -> HttpResponse:
    user = request.user
    group = pages.group
    # Found first: someone outside the group, or not the asker's to see, is refused before
    # anything posted is looked at.
    person = selectors.welfare_person(user, person_id, group)
    is_supervisor = group.supervises(user)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    work_form = WorkForm(
        request.POST if action == "work" else None,
        prefix="work",
        initial={"person": person_id},
        module=group.module,
    )
    psych_form = PsychForm(request.POST if action == "psych" else None, prefix="psych")
    form = work_form if action == "work" else psych_form if action == "psych" else None
    records = _working_time_forms(request, action, person, group) if is_supervisor else {}
    if action in records:
        form, save, done = records[action]
        if form.is_valid():
            try:
                save(form.cleaned_data)
            except ValidationError as error:
                add_form_errors(form, error)
            else:
                messages.success(request, done)
                return redirect(request.path)
    if action == "work" and work_form.is_valid():
        data = work_form.cleaned_data
        try:
            _, flags = services.record_work(
                user,
                person=User.objects.filter(pk=data.pop("person")).first(),
                group=group,
                **data,
            )
        except ValidationError as error:
            add_form_errors(work_form, error)
        else:
            messages.success(request, "Time recorded.")
            for flag in flags:
                messages.warning(request, f"Working-time flag: {flag.title} – {flag.detail}")
            return redirect(request.path)
    elif action == "psych" and psych_form.is_valid():
        try:
            services.record_psych_assessment(
                user,
                person=person,
                assessed_on=psych_form.cleaned_data["assessed_on"],
                group=group,
            )
        except (ValidationError, PermissionDenied) as error:
            psych_form.add_error(None, "; ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, "Assessment date recorded.")
            return redirect(request.path)
    result = selectors.person_welfare(user, person.pk, group=group)
    changeable = {
        note.pk for note in result.notes if permissions.may_change_welfare_note(user, note, group)
    }
    return render(
        request,
        "rota/person_welfare.html",
        {
            **_pages_context(pages, user),
            "result": result,
            "changeable_notes": changeable,
            "work_form": work_form,
            "psych_form": psych_form,
            "terms_form": records.get("terms", (None,))[0],
            "leave_form": records.get("leave", (None,))[0],
            "rest_form": records.get("rest", (None,))[0],
            "note_form": records.get("note", (None,))[0],
            "form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )


def _working_time_forms(
    request: AuthenticatedRequest, action: str, person: User, group: StaffGroup = OPERATIONS
) -> dict[str, tuple[Any, Any, str]]:
    """Supervisors' records the working-time limits depend on (terms, leave, compensatory
    rest), and their welfare notes."""
    user = request.user
    posted = request.POST if request.method == "POST" else None
    terms = selectors.working_time_terms(person)
    initial = (
        {
            "employment_started_on": terms.employment_started_on,
            "opt_out_signed_on": terms.opt_out_signed_on,
            "opt_out_ended_on": terms.opt_out_ended_on,
            "weekly_rest_option": terms.weekly_rest_option,
        }
        if terms
        else {}
    )
    return {
        "terms": (
            TermsForm(posted if action == "terms" else None, prefix="terms", initial=initial),
            lambda data: services.set_working_time_terms(user, person=person, group=group, **data),
            "Working-time terms recorded.",
        ),
        "leave": (
            LeaveForm(posted if action == "leave" else None, prefix="leave"),
            lambda data: services.record_leave(user, person=person, group=group, **data),
            "Leave recorded.",
        ),
        "rest": (
            CompensatoryRestForm(posted if action == "rest" else None, prefix="rest"),
            lambda data: services.record_compensatory_rest(
                user, person=person, group=group, **data
            ),
            "Compensatory rest recorded.",
        ),
        "note": (
            WelfareNoteForm(posted if action == "note" else None, prefix="note"),
            lambda data: services.record_welfare_note(user, person=person, group=group, **data),
            "Welfare note recorded.",
        ),
    }


def welfare_me(
    request: AuthenticatedRequest, pages: WelfarePages = OPERATIONS_PAGES
) -> HttpResponse:
    return _welfare_page(request, request.user.pk, pages)


def welfare_person(request: AuthenticatedRequest, person_id: int) -> HttpResponse:
    return _welfare_page(request, person_id)


# ------------------------------------------------------------- protection staff's welfare


def protection_welfare_person(request: AuthenticatedRequest, officer_id: int) -> HttpResponse:
    return _welfare_page(request, officer_id, PROTECTION_PAGES)


# ------------------------------------------------------------- welfare notes: corrections


def _refuse(form: Any, message: str) -> None:
    """Show a refusal on a form that may not have been posted (a GET of a withdrawn note)."""
    if not form.is_bound:
        form.errors  # noqa: B018 - an unbound form's errors start empty
        form.cleaned_data = {}
    form.add_error(None, message)


def _note_back(pages: WelfarePages, note: WelfareNote) -> str:
    return reverse(pages.person, args=[note.user_id])


def _changeable_note(request: AuthenticatedRequest, note_id: UUID, pages: WelfarePages) -> Any:
    """The note, for its author or the group's supervisors (refused before any form shows)."""
    note = selectors.welfare_note(request.user, note_id, pages.group)
    if not permissions.may_change_welfare_note(request.user, note, pages.group):
        if note.withdrawn:
            return note  # shown with the refusal: nothing left to change
        raise PermissionDenied
    return note


def _note_form(
    request: AuthenticatedRequest,
    pages: WelfarePages,
    note: WelfareNote,
    form: Any,
    heading: str,
    submit: str,
) -> HttpResponse:
    """The correct or withdraw form for a note (400 with the form's errors)."""
    return render(
        request,
        "rota/welfare_note_form.html",
        {
            **_pages_context(pages, request.user),
            "note": note,
            "form": form,
            "heading": heading,
            "submit": submit,
            "back_url": _note_back(pages, note),
        },
        status=400 if form.errors else 200,
    )


def welfare_note_correct(
    request: AuthenticatedRequest, note_id: UUID, pages: WelfarePages = OPERATIONS_PAGES
) -> HttpResponse:
    user = request.user
    note = _changeable_note(request, note_id, pages)
    form = WelfareNoteCorrectionForm(
        request.POST or None, initial={"version": note.version, "text": note.text}
    )
    if note.withdrawn:
        _refuse(form, "This note was withdrawn and can no longer be changed")
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if submitted(
            request,
            form,
            lambda: services.correct_welfare_note(
                user,
                note.pk,
                version=data["version"],
                text=data["text"],
                reason=data["reason"],
                group=pages.group,
            ),
            success="Welfare note corrected.",
            shown=(ConflictError, PermissionDenied),
        ):
            return redirect(_note_back(pages, note))
    return _note_form(request, pages, note, form, "Correct a welfare note", "Save the correction")


def welfare_note_withdraw(
    request: AuthenticatedRequest, note_id: UUID, pages: WelfarePages = OPERATIONS_PAGES
) -> HttpResponse:
    """Withdraw a note entered in error: a reason, then a confirmation page; the note stays,
    shown as withdrawn, with its history."""
    user = request.user
    note = _changeable_note(request, note_id, pages)
    form = WithdrawWelfareNoteForm(request.POST or None, initial={"version": note.version})
    back = _note_back(pages, note)
    if note.withdrawn:
        _refuse(form, "This note has already been withdrawn")
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not confirmed(request):
            return confirmation(
                request,
                question="Withdraw this welfare note?",
                yes="Yes, withdraw it",
                back_url=back,
                hidden={"version": str(data["version"]), "reason": data["reason"]},
                details=[
                    ("About", str(note.user)),
                    ("Recorded", timezone.localtime(note.created_at).strftime("%d %b %Y %H:%M")),
                    ("Why it is withdrawn", data["reason"]),
                ],
                warning="The note stays on the record, marked as withdrawn, and can no longer "
                "be corrected.",
            )
        if submitted(
            request,
            form,
            lambda: services.withdraw_welfare_note(
                user, note.pk, version=data["version"], reason=data["reason"], group=pages.group
            ),
            success="Welfare note withdrawn. It stays on the record, marked as withdrawn.",
            shown=(ConflictError, PermissionDenied),
        ):
            return redirect(back)
    return _note_form(request, pages, note, form, "Withdraw a welfare note", "Continue")


NOTE_HISTORY_LABELS = {"text": "Note", "withdrawn_at": "Withdrawn"}


def welfare_note_history(
    request: AuthenticatedRequest, note_id: UUID, pages: WelfarePages = OPERATIONS_PAGES
) -> HttpResponse:
    user = request.user
    note, revisions = selectors.welfare_note_history(user, note_id, pages.group)
    versions = history_rows(revisions, NOTE_HISTORY_LABELS)
    for row in versions:  # a note that ends is withdrawn (entered in error)
        if row["action"] == RevisionAction.ENDED.label:
            row["action"] = "Withdrawn"
            row["values"] = [
                (label, value) for label, value in row["values"] if label != "Withdrawn"
            ]
    return render(
        request,
        "rota/welfare_note_history.html",
        {
            **_pages_context(pages, user),
            "note": note,
            "versions": versions,
            "may_change": permissions.may_change_welfare_note(user, note, pages.group),
            "back_url": _note_back(pages, note),
        },
    )


def feed(request: AuthenticatedRequest, group: StaffGroup = OPERATIONS) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "issue":
            _, secret = services.issue_feed_token(user, group)
            request.session[FEED_SECRET] = secret
            messages.success(
                request, "New calendar feed address created. Any earlier address no longer works."
            )
            return _to(request, "rota:feed")
        if action == "revoke" and not confirmed(request):
            namespace = request.resolver_match.namespace if request.resolver_match else None
            return confirmation(
                request,
                question="Revoke your calendar feed address?",
                yes="Yes, revoke the address",
                back_url=reverse("rota:feed", current_app=namespace),
                hidden={"action": "revoke"},
                warning="Calendars that use it stop updating; a new address can be created.",
            )
        if action == "revoke":
            services.revoke_feed_token(user, group)
            messages.success(request, "Calendar feed address revoked.")
            return _to(request, "rota:feed")
        messages.error(request, "Choose to create or revoke the feed address.")
    secret = request.session.pop(FEED_SECRET, None)
    url = request.build_absolute_uri(f"/api/rota/feeds/{secret}.ics") if secret else None
    return render(
        request,
        "rota/feed.html",
        {**_frame(group), "url": url, "token": selectors.live_feed_token(user)},
    )

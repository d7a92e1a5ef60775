from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from haven import csvfiles
from haven.access import policy
from haven.access.purposes import Purpose
from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.accounts.types import AuthenticatedRequest
from haven.revisions import RevisionAction, history_rows
from haven.ui.answers import (
    CHANGE,
    check_answers,
    forget_answers,
    form_data,
    keep_answers,
    kept_answers,
)
from haven.ui.helpers import (
    SESSION_PURPOSE,
    add_form_errors,
    ask_purpose,
    attachment,
    confirmation,
    confirmed,
    corrected,
    created,
    marking_context,
    query_without_page,
    safe_filename,
    search_answers,
    session_purpose,
    submitted,
)
from haven.vault import documents

from . import config, permissions, selectors, services
from .config import ACCEPTANCE_FACTORS, TRANSITIONS
from .forms import (
    BLANK_ITEM_ROWS,
    ApplyChecklistForm,
    BreakGlassForm,
    CaseEditForm,
    CaseLinkForm,
    CaseSearchForm,
    ChecklistEditForm,
    ChecklistForm,
    ChecklistRetireForm,
    CompleteTaskForm,
    ContactCorrectionForm,
    ContactForm,
    DecisionForm,
    DocumentForm,
    EndLocationForm,
    EscalationForm,
    GrantForm,
    IdentityForm,
    JointProviderForm,
    LocationCorrectionForm,
    LocationForm,
    PartnerEditForm,
    PartnerForm,
    PartnerRetireForm,
    PersonForm,
    PersonSearchForm,
    PurposeForm,
    ReferralForm,
    RemovalReasonForm,
    TaskForm,
    TeamMemberForm,
    WithdrawContactForm,
)
from .models import (
    OBJECT_TYPE,
    Case,
    CaseStatus,
    Concern,
    ContactMethod,
    LocationKind,
    MayBeTold,
    PersonRole,
)


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


def case_list(request: AuthenticatedRequest) -> HttpResponse:
    purpose = session_purpose(request)
    if purpose is None:
        return ask_purpose(request)
    if PERSONAL_QUERY & set(request.GET):
        return refuse_personal_query(request)
    form = CaseSearchForm(request.GET or None)
    person = PersonSearchForm(request.POST if request.method == "POST" else None)
    search = search_from(form, person)
    user = request.user
    page = selectors.list_cases(user, search, request.GET.get("page"), purpose)
    # A name finds people of every role (principal, family, associates), not only subjects.
    people = selectors.find_people(user, search, purpose) if search.name else None
    return render(
        request,
        "cases/list.html",
        {
            "form": form,
            "person_form": person,
            "people": people,
            "people_limit": selectors.PEOPLE_LIMIT,
            "person_search": bool(search.name or search.dob),
            **case_list_context(request, purpose, page),
        },
    )


# Personal search terms travel only in a POST body (PersonSearchForm), never in a URL.
PERSONAL_QUERY = frozenset({"name", "dob"})


def case_list_context(request: HttpRequest, purpose: str, page: Any) -> dict[str, Any]:
    """What a list of cases shows around its rows: the page and its filters for the page links,
    the purpose of access, and the marking every list of cases carries (SECRET)."""
    return {
        "page": page,
        "query": query_without_page(request),
        "purpose_label": Purpose(purpose).label,
        "nav_active": "protection",
        **marking_context("SECRET"),
    }


def refuse_personal_query(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"title": "Search for a person with the form on the Cases page, not in the web address"},
        status=400,
    )


def search_from(
    form: CaseSearchForm, person: PersonSearchForm | None = None
) -> selectors.CaseSearch:
    return selectors.CaseSearch(**search_answers(form, person))


HUB_SECTIONS = {
    "summary": "cases/hub/summary.html",
    "people": "cases/hub/people.html",
    "contacts": "cases/hub/contacts.html",
    "tasks": "cases/hub/tasks.html",
    "documents": "cases/hub/documents.html",
    "timeline": "cases/hub/timeline.html",
    "members": "cases/hub/members.html",
}


def case_detail(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    return case_section(request, case_id, "summary")


def case_section(request: AuthenticatedRequest, case_id: UUID, section: str) -> HttpResponse:
    """One tab of the case hub; each is the whole case file read once (one ledgered read)."""
    purpose = session_purpose(request)
    user = request.user
    if purpose is None:
        selectors.find_visible_case(user, case_id)  # 404 before asking, so no existence oracle
        return ask_purpose(request)
    if section == "members" and permissions.may_manage_team(
        user, selectors.find_visible_case(user, case_id)
    ):
        return case_team(request, case_id)  # the manager's Team tab is where they manage it
    case_file = selectors.get_case_file(user, case_id, purpose)
    case = case_file.case
    links = selectors.case_links(user, case, purpose) if section == "people" else []
    return render(
        request,
        HUB_SECTIONS[section],
        {
            "case": case,
            "file": case_file,
            "hub": "team" if section == "members" else section,
            "timeline": case_file.timeline(),
            "team": policy.team_of(OBJECT_TYPE, case.pk),
            "grants": policy.live_grants(OBJECT_TYPE, case.pk),
            "next_statuses": [
                (value, config.DECISION_WORDS.get(value, label))
                for value, label in permissions.decisions_open_to(user, case)
            ],
            "purpose_label": Purpose(purpose).label,
            "may_see_identity": permissions.may_read_identity(user, case),
            "may_manage": permissions.may_manage_team(user, case),
            "may_add_joint": permissions.may_record_joint_provider(user),
            "may_correct": permissions.may_correct_records(user, case),
            "may_add_tasks": permissions.may_add_tasks(user, case),
            "may_link": permissions.may_link_cases(user, case),
            "links": links,
            "nav_active": "protection",
            "today": timezone.localdate(),
            # A linked case shown on the page may be marked higher than this one.
            **marking_context(highest_marking(case, *(item.case for item in links))),
        },
    )


def highest_marking(*cases: Case) -> str:
    return max(cases, key=lambda c: (c.classification, c.sensitive)).marking


def case_identity(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    purpose = session_purpose(request)
    user = request.user
    if purpose is None:
        selectors.find_identity_case(user, case_id)
        return ask_purpose(request)
    case = selectors.find_identity_case(user, case_id)
    form = IdentityForm(request.POST or None)
    if submitted(
        request,
        form,
        lambda: services.record_identity(user, case.pk, **form.cleaned_data),
        "Identity link recorded.",
    ):
        return redirect("cases:identity", case_id=case.pk)
    record = selectors.get_identity(user, case_id, purpose)
    return render(
        request,
        "cases/identity.html",
        {
            "case": case,
            "record": record,
            "form": form,
            "offence": config.NEW_IDENTITY_OFFENCE,
            "nav_active": "protection",
            **marking_context("TOP SECRET"),
        },
    )


def case_team(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    """The case manager's page: add to the team, grant access, and reach remove and revoke."""
    user = request.user
    case = selectors.case_for_management(user, case_id)
    granting = "grant-user" in request.POST
    grant_form = GrantForm(request.POST if granting else None, case=case, prefix="grant")
    member_form = TeamMemberForm(
        request.POST if request.method == "POST" and not granting else None,
        case=case,
        prefix="member",
    )
    form = grant_form if granting else member_form
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if submitted(
            request, form, lambda: change_team(user, case, granting, data), "Access updated."
        ):
            return redirect("cases:team", case_id=case.pk)
    return render(
        request,
        "cases/team.html",
        {
            "case": case,
            "hub": "team",
            "grant_form": grant_form,
            "member_form": member_form,
            "form": form,
            "team": policy.team_of(OBJECT_TYPE, case.pk),
            "grants": policy.live_grants(OBJECT_TYPE, case.pk),
            "manage_actions": True,
            "nav_active": "protection",
            **marking_context(case.marking),
        },
    )


def change_team(user: User, case: Case, granting: bool, data: dict) -> object:
    if granting:
        return services.grant_access(
            user, case.pk, data["user"], reason=data["reason"], days=data["days"]
        )
    return services.add_team_member(user, case.pk, data["user"], data["team_role"])


def member_remove(request: AuthenticatedRequest, case_id: UUID, membership_id: int) -> HttpResponse:
    """Confirmation page: take one person off the team, with a reason."""
    user = request.user
    case = selectors.case_for_management(user, case_id)
    membership = services.find_membership(case, membership_id)
    return access_removal_page(
        request,
        case,
        lambda reason: services.remove_team_member(user, case.pk, membership.pk, reason=reason),
        f"{membership.user} is no longer on the team.",
        f"Remove {membership.user} as {membership.get_team_role_display().lower()}",
        "Remove from team",
    )


def grant_revoke(request: AuthenticatedRequest, case_id: UUID, grant_id: int) -> HttpResponse:
    """Confirmation page: end a live grant now, with a reason."""
    user = request.user
    case = selectors.case_for_management(user, case_id)
    grant = policy.live_grants(OBJECT_TYPE, case.pk).filter(pk=grant_id).first()
    if grant is None:
        raise selectors.CaseNotFound("No such grant")
    return access_removal_page(
        request,
        case,
        lambda reason: services.revoke_grant(user, case.pk, grant.pk, reason=reason),
        f"Access of {grant.user} revoked.",
        f"Revoke the access of {grant.user} (until {grant.expires_at:%d %b %Y %H:%M})",
        "Revoke access",
    )


def access_removal_page(
    request: AuthenticatedRequest,
    case: Case,
    remove: Callable[[str], object],
    done: str,
    title: str,
    confirm: str,
) -> HttpResponse:
    """A confirmation page that takes someone's access to the case away, with a reason; then
    back to the team page."""
    form = RemovalReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        if submitted(request, form, lambda: remove(reason), done):
            return redirect("cases:team", case_id=case.pk)
    return render_case_form(
        request, case, title, form, template="cases/confirm_form.html", confirm=confirm
    )


def break_glass(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
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
def clear_purpose(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_PURPOSE, None)
    return redirect("cases:purpose")


# --------------------------------------------------------------------------- casework


def protection_page(
    request: AuthenticatedRequest, case_id: UUID | None = None
) -> tuple[User, str | None, Case | None]:
    """The signed-in user, their purpose and (404 for no access) the case."""
    user = request.user
    case = selectors.find_visible_case(user, case_id) if case_id else None
    return user, session_purpose(request), case


def render_case_form(
    request: HttpRequest, case: Case, title: str, form: object, **extra: object
) -> HttpResponse:
    return render(
        request,
        extra.pop("template", "cases/case_form.html"),  # type: ignore[arg-type]
        {
            "case": case,
            "title": title,
            "form": form,
            "nav_active": "protection",
            **marking_context(case.marking),
            **extra,
        },
    )


def saved(request: HttpRequest, case: Case, message: str, tab: str = "detail") -> HttpResponse:
    """Back to the hub tab that shows what was just saved (`tab` is its URL name)."""
    messages.success(request, message)
    return redirect(f"cases:{tab}", case_id=case.pk)


REFERRAL_ANSWERS = "referral"


def referral_user(request: AuthenticatedRequest) -> User:
    user = request.user
    if not user.has_role(Role.PROTECTION_OFFICER, Role.PROTECTION_MANAGER):
        raise PermissionDenied
    return user


def referral_page(request: HttpRequest, form: ReferralForm, duplicates: Any = None) -> HttpResponse:
    return render(
        request,
        "cases/referral_form.html",
        {"form": form, "duplicates": duplicates, "nav_active": "protection"},
    )


def referral_new(request: AuthenticatedRequest) -> HttpResponse:
    """The referral form; a valid referral goes to check your answers (kept, sealed, in the
    session), never straight to the record."""
    user = referral_user(request)
    initial = {"received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    bound = form_data(request, REFERRAL_ANSWERS)
    if request.method == "GET" and bound is not None:  # changing an answer: check duplicates again
        bound.pop("confirm_duplicate", None)
    form = ReferralForm(bound, initial=initial)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if not data["confirm_duplicate"]:
                duplicates = services.check_duplicates(
                    user, data["subject_name"], data["subject_dob"]
                )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            if duplicates is None or not duplicates.any:
                keep_answers(request, REFERRAL_ANSWERS, request.POST)
                return redirect("cases:referral_check")
            form.data = form.data.copy()  # type: ignore[attr-defined]
            form.data["confirm_duplicate"] = "True"  # type: ignore[index]
    return referral_page(request, form, duplicates)


def referral_check(request: AuthenticatedRequest) -> HttpResponse:
    """Check your answers before a referral is recorded; "Record the referral" creates it."""
    user = referral_user(request)
    kept = kept_answers(request, REFERRAL_ANSWERS)
    form = ReferralForm(kept)
    if kept is None or not form.is_valid():  # nothing kept (or no longer valid): the form
        return redirect("cases:referral_new") if kept is None else referral_page(request, form)
    if request.method == "POST":
        data = dict(form.cleaned_data)
        data.pop("confirm_duplicate")
        try:
            case = services.create_case(user, **data)
        except ValidationError as error:
            add_form_errors(form, error)
            return referral_page(request, form)
        forget_answers(request, REFERRAL_ANSWERS)
        messages.success(request, f"Referral {case.reference} recorded.")
        return redirect("cases:detail", case_id=case.pk)
    return check_answers(
        request,
        form,
        title="Check your answers before recording the referral",
        change_url=f"{reverse('cases:referral_new')}?{CHANGE}",
        submit="Record the referral",
        back_url=f"{reverse('cases:referral_new')}?{CHANGE}",
        extra={"form": form, "nav_active": "protection"},
    )


def triage(request: AuthenticatedRequest) -> HttpResponse:
    user, purpose, _ = protection_page(request)
    if purpose is None:
        return ask_purpose(request)
    form = CaseSearchForm(request.GET or None)
    search = search_from(form)
    page = selectors.triage_queue(user, search, request.GET.get("page"), purpose)
    return render(
        request,
        "cases/triage.html",
        {
            "form": form,
            **case_list_context(request, purpose, page),
        },
    )


def case_export(request: AuthenticatedRequest) -> HttpResponse:
    user, purpose, _ = protection_page(request)
    if purpose is None:
        return ask_purpose(request)
    if PERSONAL_QUERY & set(request.GET):
        return refuse_personal_query(request)
    form = CaseSearchForm(request.GET or None)
    content = selectors.export_cases_csv(user, search_from(form), purpose)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csvfiles.attachment(content, f"cases-{stamp}.csv")


def case_edit(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user, purpose, case = protection_page(request, case_id)
    if purpose is None:
        return ask_purpose(request)
    case = selectors.get_case(user, case_id, purpose)
    initial = {
        "version": case.version,
        "subject_name": case.subject_name,
        "subject_dob": case.subject_dob,
        "address": case.address,
        "threat_summary": case.threat_summary or "",
        "urgency": case.urgency,
    }
    form = CaseEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version, reason = data.pop("version"), data.pop("reason")
        changes = {k: v for k, v in data.items() if v != initial.get(k)}
        if submitted(
            request,
            form,
            lambda: services.update_case(user, case.pk, version=version, reason=reason, **changes),
            shown=(services.ConflictError,),
        ):
            return saved(request, case, "Case details saved.")
    return render_case_form(request, case, "Change case details", form)


def decision_answers(case: Case) -> str:
    return f"decision:{case.pk}"


def decision_form(
    request: AuthenticatedRequest, case: Case, data: Any
) -> tuple[DecisionForm, Any, str]:
    """The s.82 decision form offering only the decisions open to the user; with the rule of
    the decision asked for (or the first open) and its target."""
    user = request.user
    target = (data or {}).get("to_status") or request.GET.get("to") or ""
    choices = permissions.decisions_open_to(user, case)
    options = [value for value, _ in choices]
    if target not in options and options:
        target = options[0]
    form = DecisionForm(
        data,
        initial={"version": case.version, "to_status": target, "decided_on": timezone.localdate()},
    )
    form.fields["to_status"].choices = choices or [  # type: ignore[attr-defined]
        ("", "No decision on this case is open to you now")
    ]
    return form, TRANSITIONS.rule(case.status, target), target


def decision_arguments(form: DecisionForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "to_status": data["to_status"],
        "version": data["version"],
        "reason": data["reason"],
        "decided_on": data["decided_on"],
        "factors": {name: data[name] for name in DecisionForm.FACTORS},
        "transfer": {name: data[name] for name in DecisionForm.TRANSFER},
    }


def decision_page(request: HttpRequest, case: Case, form: DecisionForm, rule: Any) -> HttpResponse:
    return render_case_form(
        request,
        case,
        f"Decision on {case.reference}",
        form,
        template="cases/decision_form.html",
        rule=rule,
        factors=ACCEPTANCE_FACTORS,
        current=CaseStatus(case.status).label,
    )


def case_decision(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    """The s.82 decision form; a valid decision goes to check your answers first."""
    user, purpose, case = protection_page(request, case_id)
    assert case is not None
    if not permissions.decisions_open_to(user, case) and request.method == "GET":
        messages.info(request, f"No decision on {case.reference} is open to you now.")
        return redirect("cases:detail", case_id=case.pk)
    form, rule, _ = decision_form(request, case, form_data(request, decision_answers(case)))
    if request.method == "POST" and form.is_valid():
        # Every refusal on this first submit, before the answers are checked.
        if submitted(
            request,
            form,
            lambda: services.check_decision(user, case.pk, **decision_arguments(form)),
            shown=(services.ConflictError, PermissionDenied),
        ):
            keep_answers(request, decision_answers(case), request.POST)
            return redirect("cases:decision_check", case_id=case.pk)
    return decision_page(request, case, form, rule)


def decision_check(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    """Check your answers before an arrangement decision; "Record the decision" records it."""
    user, purpose, case = protection_page(request, case_id)
    assert case is not None
    kept = kept_answers(request, decision_answers(case))
    if kept is None:
        return redirect("cases:decision", case_id=case.pk)
    form, rule, target = decision_form(request, case, kept)
    if not form.is_valid():  # no longer open, or the answers no longer fit: back to the form
        return decision_page(request, case, form, rule)
    if request.method == "POST":
        if submitted(
            request,
            form,
            lambda: services.change_status(user, case.pk, **decision_arguments(form)),
            shown=(services.ConflictError, PermissionDenied),
        ):
            forget_answers(request, decision_answers(case))
            label = CaseStatus(form.cleaned_data["to_status"]).label
            return saved(request, case, f"{case.reference} is now {label.lower()}.")
        return decision_page(request, case, form, rule)
    change = f"{reverse('cases:decision', args=[case.pk])}?{CHANGE}"
    return check_answers(
        request,
        form,
        title=f"Check your answers before recording the decision on {case.reference}",
        change_url=change,
        submit="Record the decision",
        back_url=change,
        omit_blank=True,
        extra={
            "form": form,
            "case": case,
            "nav_active": "protection",
            **marking_context(case.marking),
        },
    )


def joint_provider_add(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user, _, case = protection_page(request, case_id)
    assert case is not None
    form = JointProviderForm(request.POST or None)
    if submitted(
        request,
        form,
        lambda: services.add_joint_provider(user, case.pk, **form.cleaned_data),
        shown=(PermissionDenied,),
    ):
        return saved(request, case, "Joint provider recorded.", "detail")
    return render_case_form(request, case, "Record a joint provider (s.83)", form)


def person_add(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user, _, case = protection_page(request, case_id)
    assert case is not None
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version")
        if submitted(request, form, lambda: services.add_person(user, case.pk, **data)):
            return saved(request, case, "Person added.", "people")
    return render_case_form(request, case, "Add an associated person", form)


def person_edit(request: AuthenticatedRequest, case_id: UUID, case_person_id: UUID) -> HttpResponse:
    user, purpose, case = protection_page(request, case_id)
    assert case is not None
    if purpose is None:
        selectors.find_record(case, "person", case_person_id)
        return ask_purpose(request)
    person = selectors.get_record(user, case.pk, "person", case_person_id, purpose)
    initial = {
        "version": person.version,
        "full_name": person.full_name,
        "relationship": person.relationship,
        "dob": person.dob,
        "phone": person.phone or "",
        "notes": person.notes or "",
    }
    form = PersonForm(
        request.POST or None, initial=initial, principal=person.role == PersonRole.PRINCIPAL
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        changes = {k: v for k, v in data.items() if v != initial.get(k)}
        try:
            if version is None:
                raise ValidationError("Reload the page and try again")
            services.update_person(user, case.pk, person.pk, version=version, **changes)
        except services.ConflictError as conflict:
            form.add_error(None, str(conflict))
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            return saved(request, case, "Person details saved.", "people")
    return render_case_form(request, case, "Change a person's details", form)


def people_of(user: User, case: Case, purpose: str | None) -> list:
    if purpose is None:
        return []
    return selectors.case_records(user, case.pk, "person", purpose)


def location_add(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user, purpose, case = protection_page(request, case_id)
    assert case is not None
    if purpose is None:
        return ask_purpose(request)
    form = LocationForm(request.POST or None, people=people_of(user, case, purpose))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["person_id"] = data.pop("person") or None
        if submitted(request, form, lambda: services.add_location(user, case.pk, **data)):
            return saved(request, case, "Location recorded.", "people")
    return render_case_form(request, case, "Record a location", form)


def contact_add(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user, purpose, case = protection_page(request, case_id)
    assert case is not None
    if purpose is None:
        return ask_purpose(request)
    form = ContactForm(
        request.POST or None,
        people=people_of(user, case, purpose),
        partners=selectors.active_partners(user),
        initial={"occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["person_id"] = data.pop("person") or None
        data["partner_id"] = data.pop("partner", None) or None
        if submitted(request, form, lambda: services.log_contact(user, case.pk, **data)):
            return saved(request, case, "Contact logged.", "contacts")
    return render_case_form(
        request, case, "Log a contact", form, template="cases/contact_form.html"
    )


# --------------------------------------------------------------------------- corrections


def correction_page(
    request: AuthenticatedRequest, case_id: UUID, kind: str, record_id: UUID
) -> tuple[User, Case, Any] | HttpResponse:
    """The case, and the record as read (ledgered), for a correction page; only the case team
    may correct (cases.permissions), so anyone else is refused before the form is shown."""
    user, purpose, case = protection_page(request, case_id)
    assert case is not None
    if purpose is None:
        selectors.find_record(case, kind, record_id)
        return ask_purpose(request)
    if not permissions.may_correct_records(user, case):
        raise PermissionDenied
    return user, case, selectors.get_record(user, case.pk, kind, record_id, purpose)


def correction_data(form: Any) -> dict[str, Any]:
    """A correction form's answers as the service takes them: the person by id, or none."""
    data = dict(form.cleaned_data)
    data["person_id"] = data.pop("person") or None
    return data


def render_correction_form(
    request: HttpRequest,
    case: Case,
    kind: str,
    record: Any,
    title: str,
    form: object,
    **extra: object,
) -> HttpResponse:
    """A correction page: the form beside a link to the record's earlier versions."""
    return render_case_form(
        request,
        case,
        title,
        form,
        template="cases/correction_form.html",
        history_url=reverse(f"cases:{kind}_history", args=[case.pk, record.pk]),
        **extra,
    )


def location_edit(
    request: AuthenticatedRequest, case_id: UUID, case_location_id: UUID
) -> HttpResponse:
    page = correction_page(request, case_id, "location", case_location_id)
    if isinstance(page, HttpResponse):
        return page
    user, case, location = page
    coordinates = location.coordinates or {}
    initial = {
        "version": location.version,
        "kind": location.kind,
        "address": location.address,
        "latitude": coordinates.get("lat"),
        "longitude": coordinates.get("lon"),
        "valid_from": location.valid_from,
        "valid_to": location.valid_to,
        "person": str(location.person_id or ""),
    }
    form = LocationCorrectionForm(
        request.POST or None,
        initial=initial,
        people=people_of(user, case, session_purpose(request)),
    )
    if request.method == "POST" and form.is_valid():
        data = correction_data(form)
        if submitted(
            request,
            form,
            lambda: services.correct_location(user, case.pk, location.pk, **data),
            shown=(services.ConflictError,),
        ):
            return saved(request, case, "Location corrected.", "people")
    return render_correction_form(request, case, "location", location, "Correct a location", form)


def location_end(
    request: AuthenticatedRequest, case_id: UUID, case_location_id: UUID
) -> HttpResponse:
    page = correction_page(request, case_id, "location", case_location_id)
    if isinstance(page, HttpResponse):
        return page
    user, case, location = page
    form = EndLocationForm(
        request.POST or None,
        initial={"version": location.version, "ended_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if submitted(
            request,
            form,
            lambda: services.end_location(
                user,
                case.pk,
                location.pk,
                version=data["version"],
                reason=data["reason"],
                ended_on=data["ended_on"],
            ),
            shown=(services.ConflictError,),
        ):
            return saved(request, case, "Location ended. It stays on the record.", "people")
    return render_correction_form(
        request,
        case,
        "location",
        location,
        "End a location",
        form,
        record_summary=f"{location.get_kind_display()}: {location.address}",
    )


def contact_edit(
    request: AuthenticatedRequest, case_id: UUID, case_contact_id: UUID
) -> HttpResponse:
    page = correction_page(request, case_id, "contact", case_contact_id)
    if isinstance(page, HttpResponse):
        return page
    user, case, entry = page
    initial = {
        "version": entry.version,
        "occurred_at": timezone.localtime(entry.occurred_at).strftime("%Y-%m-%dT%H:%M"),
        "person": str(entry.person_id or ""),
        "method": entry.method,
        "summary": entry.summary,
        "concerns": list(entry.concerns or []),
        "follow_up": entry.follow_up or "",
        "follow_up_due": entry.follow_up_due,
    }
    form = ContactCorrectionForm(
        request.POST or None,
        initial=initial,
        people=people_of(user, case, session_purpose(request)),
    )
    if request.method == "POST" and form.is_valid():
        data = correction_data(form)
        if data["occurred_at"] == entry.occurred_at.replace(second=0, microsecond=0):
            data.pop("occurred_at")  # unchanged: the form shows minutes only
        if submitted(
            request,
            form,
            lambda: services.correct_contact(user, case.pk, entry.pk, **data),
            shown=(services.ConflictError,),
        ):
            return saved(request, case, "Contact corrected.", "contacts")
    return render_correction_form(request, case, "contact", entry, "Correct a contact", form)


def contact_withdraw(
    request: AuthenticatedRequest, case_id: UUID, case_contact_id: UUID
) -> HttpResponse:
    """Withdraw a contact log entry entered in error: a reason, then a confirmation page; the
    entry stays on the log, shown as withdrawn, with its history."""
    page = correction_page(request, case_id, "contact", case_contact_id)
    if isinstance(page, HttpResponse):
        return page
    user, case, entry = page
    form = WithdrawContactForm(request.POST or None, initial={"version": entry.version})
    when = timezone.localtime(entry.occurred_at).strftime("%d %b %Y %H:%M")
    if entry.withdrawn:
        form.add_error(None, "This contact has already been withdrawn")
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not confirmed(request):
            return confirmation(
                request,
                question="Withdraw this contact log entry?",
                yes="Yes, withdraw it",
                back_url=reverse("cases:contacts", args=[case.pk]),
                hidden={"version": str(data["version"]), "reason": data["reason"]},
                details=[
                    ("Case", case.reference),
                    ("When", when),
                    ("How", entry.get_method_display()),
                    ("Why it is withdrawn", data["reason"]),
                ],
                warning="The entry stays on the log, marked as withdrawn, and can no longer "
                "be corrected.",
                marking=case.marking,
            )
        if submitted(
            request,
            form,
            lambda: services.withdraw_contact(
                user, case.pk, entry.pk, version=data["version"], reason=data["reason"]
            ),
            shown=(services.ConflictError,),
        ):
            message = "Contact withdrawn. It stays on the log, marked as withdrawn."
            return saved(request, case, message, "contacts")
    return render_correction_form(
        request,
        case,
        "contact",
        entry,
        "Withdraw a contact log entry",
        form,
        record_summary=f"{when}, {entry.get_method_display()}: {entry.summary}",
        submit="Continue",
    )


HISTORY_LABELS = {
    "location": {
        "kind": "Kind",
        "address": "Address",
        "coordinates": "Coordinates",
        "valid_from": "Used from",
        "valid_to": "Used until",
        "person": "Person",
    },
    "contact": {
        "occurred_at": "When",
        "method": "How",
        "summary": "Summary",
        "concerns": "Concerns",
        "follow_up": "Follow-up",
        "follow_up_due": "Follow-up due",
        "person": "Who",
        "withdrawn_at": "Withdrawn",
    },
}
WITHDRAWN_LABEL = HISTORY_LABELS["contact"]["withdrawn_at"]


def record_history(
    request: AuthenticatedRequest, case_id: UUID, kind: str, record_id: UUID
) -> HttpResponse:
    """Every earlier version of a location or contact, with who changed it, when and why."""
    user, purpose, case = protection_page(request, case_id)
    assert case is not None
    if purpose is None:
        selectors.find_record(case, kind, record_id)
        return ask_purpose(request)
    record, revisions = selectors.record_history(user, case.pk, kind, record_id, purpose)
    people = {str(p.pk): p.full_name for p in case.people.all()}
    versions = history_rows(
        revisions, HISTORY_LABELS[kind], lambda name, value: history_text(name, value, people)
    )
    if kind == "contact":  # a contact log entry that ends is withdrawn (entered in error)
        for row in versions:
            if row["action"] == RevisionAction.ENDED.label:
                row["action"] = "Withdrawn"
                row["values"] = [v for v in row["values"] if v[0] != WITHDRAWN_LABEL]
    return render(
        request,
        "cases/record_history.html",
        {
            "case": case,
            "kind": kind,
            "title": f"History of a {kind}",
            "record": record,
            "versions": versions,
            "may_correct": permissions.may_correct_records(user, case),
            "back": "people" if kind == "location" else "contacts",
            "today": timezone.localdate(),
            "nav_active": "protection",
            **marking_context(case.marking),
        },
    )


def location_history(
    request: AuthenticatedRequest, case_id: UUID, case_location_id: UUID
) -> HttpResponse:
    return record_history(request, case_id, "location", case_location_id)


def contact_history(
    request: AuthenticatedRequest, case_id: UUID, case_contact_id: UUID
) -> HttpResponse:
    return record_history(request, case_id, "contact", case_contact_id)


def history_text(name: str, value: object, people: dict[str, str]) -> str:
    if value in (None, "", []):
        return "Not recorded"
    if name == "person":
        return people.get(str(value), "Someone no longer on the case")
    if name == "kind":
        return str(dict(LocationKind.choices).get(str(value), value))
    if name == "method":
        return str(dict(ContactMethod.choices).get(str(value), value))
    if name == "concerns" and isinstance(value, list):
        return ", ".join(str(dict(Concern.choices).get(c, c)) for c in value)
    if name == "coordinates" and isinstance(value, dict):
        return f"{value.get('lat')}, {value.get('lon')}"
    return str(value)


def task_add(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user, _, case = protection_page(request, case_id)
    assert case is not None
    team = services.case_team_users(case)
    form = TaskForm(request.POST or None, team=team, initial={"owner": str(user.pk)})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["owner"] = next((u for u in team if str(u.pk) == data["owner"]), None)
        if submitted(request, form, lambda: services.create_task(user, case.pk, **data)):
            return saved(request, case, "Task set.", "tasks")
    return render_case_form(request, case, "Set a task or review", form)


def escalate(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user, _, case = protection_page(request, case_id)
    assert case is not None
    form = EscalationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            task = services.escalate(user, case.pk, **form.cleaned_data)
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            return saved(
                request, case, f"Escalated to {task.owner}; response due {task.due_on:%d %B %Y}."
            )
    return render_case_form(request, case, "Escalate a complex query to the case manager", form)


def task_complete(request: AuthenticatedRequest, case_id: UUID, case_task_id: UUID) -> HttpResponse:
    user, purpose, case = protection_page(request, case_id)
    assert case is not None
    if purpose is None:
        selectors.find_record(case, "task", case_task_id)
        return ask_purpose(request)
    task = selectors.get_record(user, case.pk, "task", case_task_id, purpose)
    form = CompleteTaskForm(
        request.POST or None, initial={"version": task.version}, prefix=str(task.pk)
    )
    if submitted(
        request,
        form,
        lambda: services.complete_task(user, case.pk, task.pk, **form.cleaned_data),
        shown=(services.ConflictError,),
    ):
        return saved(request, case, "Marked as done.", "tasks")
    return render_case_form(
        request, case, f"Complete: {task.title}", form, template="cases/task_form.html", task=task
    )


def document_add(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user, _, case = protection_page(request, case_id)
    assert case is not None
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.upload_document(
                user,
                case.pk,
                title=form.cleaned_data["title"],
                filename=upload.name,
                data=documents.read_upload(upload, services.config.DOCUMENT_MAX_BYTES),
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            return saved(request, case, "Document uploaded.", "documents")
    return render_case_form(request, case, "Upload a document", form, multipart=True)


def document_download(
    request: AuthenticatedRequest, case_id: UUID, case_document_id: UUID
) -> HttpResponse:
    user, purpose, case = protection_page(request, case_id)
    assert case is not None
    if purpose is None:
        selectors.find_record(case, "document", case_document_id)
        return ask_purpose(request)
    document, data = selectors.read_document(user, case.pk, case_document_id, purpose)
    return attachment(data, safe_filename(document.filename), document.content_type)


def my_work(request: AuthenticatedRequest) -> HttpResponse:
    user, purpose, _ = protection_page(request)
    if purpose is None:
        return ask_purpose(request)
    from haven.risk import selectors as risk_selectors  # risk builds on cases, not the reverse

    tasks = selectors.my_work(user, purpose)
    decisions = [
        (case, config.AWAITING_DECISION[case.status].what)
        for case in selectors.decisions_awaiting(user, purpose)
    ]
    assessments = [
        (assessment, risk_selectors.awaiting_action(assessment))
        for assessment in risk_selectors.assessments_awaiting(user, purpose)
    ]
    return render(
        request,
        "cases/my_work.html",
        {
            "tasks": tasks,
            "decisions": decisions,
            "assessments": assessments,
            "overdue": [t for t in tasks if t.overdue],
            "nothing": not (tasks or decisions or assessments),
            "purpose_label": Purpose(purpose).label,
            "nav_active": "protection",
        },
    )


def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    user, purpose, _ = protection_page(request)
    if not user.has_role(Role.PROTECTION_MANAGER):
        raise PermissionDenied
    if purpose is None:
        return ask_purpose(request)
    board = selectors.manager_dashboard(user, purpose)
    return render(
        request,
        "cases/dashboard.html",
        {"board": board, "purpose_label": Purpose(purpose).label, "nav_active": "protection"},
    )


# --------------------------------------------------------------------------- partner directory

DIRECTORY = {"nav_active": "protection", "classification": "OFFICIAL-SENSITIVE"}


def _posted(request: HttpRequest) -> Any:
    """The submitted fields, even when there are none (an empty POST still shows its errors)."""
    return request.POST if request.method == "POST" else None


def directory(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    include_retired = request.GET.get("retired") == "yes"
    partners = selectors.list_partners(user, include_retired=include_retired)
    return render(
        request,
        "cases/directory/list.html",
        {
            "partners": partners,
            "include_retired": include_retired,
            "may_manage": permissions.may_manage_directory(user),
            **DIRECTORY,
        },
    )


PARTNER_HISTORY_LABELS = {
    "organisation": "Organisation",
    "contact_name": "Contact name",
    "role": "Role",
    "contact_details": "Contact details",
    "may_be_told": "What they may be told",
    "may_be_told_notes": "Notes on what they may be told",
}


def partner_history_text(name: str, value: object) -> str:
    if value in (None, ""):
        return "Not recorded"
    if name == "may_be_told":
        return str(dict(MayBeTold.choices).get(str(value), value))
    return str(value)


def partner_detail(request: AuthenticatedRequest, partner_id: UUID) -> HttpResponse:
    """A directory entry with its history: who changed what, when and why."""
    user = request.user
    partner, revisions = selectors.partner_history(user, partner_id)
    return render(
        request,
        "cases/directory/detail.html",
        {
            "partner": partner,
            "versions": history_rows(revisions, PARTNER_HISTORY_LABELS, partner_history_text),
            "may_manage": permissions.may_manage_directory(user) and not partner.retired,
            **DIRECTORY,
        },
    )


def _directory_form(
    request: HttpRequest, title: str, form: object, **extra: object
) -> HttpResponse:
    return render(
        request, "cases/directory/form.html", {"title": title, "form": form, **DIRECTORY, **extra}
    )


def partner_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    permissions.require_manage_directory(user)
    form = PartnerForm(_posted(request))
    partner = created(
        request,
        form,
        lambda: services.add_partner(user, **form.cleaned_data),
        "Partner added to the directory.",
    )
    if partner is not None:
        return redirect("cases:partner", partner_id=partner.pk)
    return _directory_form(request, "Add a partner or stakeholder", form, submit="Add partner")


def partner_edit(request: AuthenticatedRequest, partner_id: UUID) -> HttpResponse:
    user = request.user
    permissions.require_manage_directory(user)
    partner = selectors.find_partner(user, partner_id, active=True)
    initial = {field: getattr(partner, field) for field in services.PARTNER_EDITABLE}
    form = PartnerEditForm(_posted(request), initial={**initial, "version": partner.version})
    change = partial(services.edit_partner, user, partner.pk)
    if corrected(request, form, change, "Directory entry changed."):
        return redirect("cases:partner", partner_id=partner.pk)
    return _directory_form(
        request, f"Change {partner.organisation}", form, partner=partner, submit="Save changes"
    )


def partner_retire(request: AuthenticatedRequest, partner_id: UUID) -> HttpResponse:
    """Confirmation page: retire an entry (never deleted), with a reason."""
    user = request.user
    permissions.require_manage_directory(user)
    partner = selectors.find_partner(user, partner_id, active=True)
    form = PartnerRetireForm(_posted(request), initial={"version": partner.version})
    retire = partial(services.retire_partner, user, partner.pk)
    if corrected(request, form, retire, f"{partner.organisation} retired from the directory."):
        return redirect("cases:directory")
    return _directory_form(
        request,
        f"Retire {partner.organisation} from the directory",
        form,
        partner=partner,
        submit="Retire entry",
        warning="Officers will no longer be able to pick this partner for a contact.",
    )


# --------------------------------------------------------------------------- checklists

CHECKLISTS = {
    "nav_active": "protection",
    "classification": "OFFICIAL",
    "default_days": config.CHECKLIST_DEFAULT_DUE_DAYS,
}


def checklists(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    include_retired = request.GET.get("retired") == "yes"
    return render(
        request,
        "cases/checklists/list.html",
        {
            "checklists": selectors.list_checklists(user, include_retired=include_retired),
            "include_retired": include_retired,
            "may_manage": permissions.may_manage_checklists(user),
            **CHECKLISTS,
        },
    )


def checklist_detail(request: AuthenticatedRequest, checklist_id: UUID) -> HttpResponse:
    user = request.user
    checklist = selectors.checklist_with_history(user, checklist_id)
    return render(
        request,
        "cases/checklists/detail.html",
        {
            "checklist": checklist,
            "may_manage": permissions.may_manage_checklists(user) and not checklist.retired,
            **CHECKLISTS,
        },
    )


def _checklist_form(
    request: HttpRequest, title: str, form: object, **extra: object
) -> HttpResponse:
    return render(
        request, "cases/checklists/form.html", {"title": title, "form": form, **CHECKLISTS, **extra}
    )


def checklist_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    permissions.require_manage_checklists(user)
    form = ChecklistForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        created: list[Any] = []
        if submitted(
            request,
            form,
            lambda: created.append(
                services.add_checklist(user, name=form.cleaned_data["name"], items=form.items())
            ),
            "Checklist added.",
        ):
            return redirect("cases:checklist", checklist_id=created[0].pk)
    return _checklist_form(request, "Add a checklist", form, submit="Add checklist")


def checklist_edit(request: AuthenticatedRequest, checklist_id: UUID) -> HttpResponse:
    """Change the name or items: saved as a new version, the earlier one kept as history."""
    user = request.user
    permissions.require_manage_checklists(user)
    checklist = selectors.find_checklist(user, checklist_id, active=True)
    items = selectors.current_items(checklist)
    initial = ChecklistForm.initial_for(checklist.name, items) | {"version": checklist.version}
    rows = len(items) + BLANK_ITEM_ROWS
    form = ChecklistEditForm(_posted(request), initial=initial, rows=rows)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if submitted(
            request,
            form,
            lambda: services.edit_checklist(
                user,
                checklist.pk,
                version=data["version"],
                reason=data["reason"],
                name=data["name"],
                items=form.items(),
            ),
            "Checklist changed: a new version is in use.",
            shown=(services.ConflictError,),
        ):
            return redirect("cases:checklist", checklist_id=checklist.pk)
    return _checklist_form(
        request, f"Change {checklist.name}", form, checklist=checklist, submit="Save changes"
    )


def checklist_retire(request: AuthenticatedRequest, checklist_id: UUID) -> HttpResponse:
    """Confirmation page: retire a checklist (never deleted), with a reason."""
    user = request.user
    permissions.require_manage_checklists(user)
    checklist = selectors.find_checklist(user, checklist_id, active=True)
    form = ChecklistRetireForm(_posted(request), initial={"version": checklist.version})
    retire = partial(services.retire_checklist, user, checklist.pk)
    if corrected(request, form, retire, f"{checklist.name} retired."):
        return redirect("cases:checklists")
    return _checklist_form(
        request,
        f"Retire {checklist.name}",
        form,
        checklist=checklist,
        submit="Retire checklist",
        warning="Teams will no longer be able to apply this checklist to a case.",
    )


def checklist_apply(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    """Set a checklist's tasks on the case; applying one the case already has asks first."""
    user, _, case = protection_page(request, case_id)
    assert case is not None
    permissions.require_add_tasks(user, case)
    team = services.case_team_users(case)
    offered = selectors.list_checklists(user)
    form = ApplyChecklistForm(
        _posted(request), checklists=offered, team=team, initial={"owner": str(user.pk)}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner = next((u for u in team if str(u.pk) == data["owner"]), None)
        try:
            tasks = services.apply_checklist(
                user,
                case.pk,
                data["checklist"],
                owner=owner,
                start_on=data["start_on"],
                confirm_repeat=data["confirm_repeat"],
            )
        except ValidationError as error:
            if getattr(error, "error_dict", {}).keys() == {"confirm_repeat"}:
                return render_case_form(
                    request,
                    case,
                    "This checklist has already been applied",
                    ApplyChecklistForm(
                        initial={**data, "confirm_repeat": True, "owner": data["owner"]},
                        checklists=offered,
                        team=team,
                    ),
                    template="cases/checklists/confirm_repeat.html",
                    message=error.message_dict["confirm_repeat"][0],
                )
            add_form_errors(form, error)
        else:
            return saved(request, case, f"{len(tasks)} tasks set from the checklist.", "tasks")
    return render_case_form(
        request,
        case,
        "Apply a checklist",
        form,
        template="cases/checklists/apply.html",
        checklists=offered,
        default_days=config.CHECKLIST_DEFAULT_DUE_DAYS,
    )


# --------------------------------------------------------------------------- linked cases


def case_link_add(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user, _, case = protection_page(request, case_id)
    assert case is not None
    permissions.require_link_cases(user, case)
    form = CaseLinkForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if submitted(
            request,
            form,
            lambda: services.link_cases(user, case.pk, data["linked_case"], reason=data["reason"]),
        ):
            return saved(request, case, "Cases linked.", "people")
    return render_case_form(request, case, "Link this case to another case", form)

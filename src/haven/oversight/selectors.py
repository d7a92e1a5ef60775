"""Policy-checked reads of oversight records.

Only oversight roles reach any of this: the module gate of the mount point answers 404 to every
other role, so these reads do not check the module again. Reading a complainant's personal
data writes a consultation entry; list pages write one entry per page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import Model, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from haven.access.visibility import restrict
from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service
from haven.timelimits import (
    Deadline,
    add_months,
    compute_deadline,
    recurring_due_dates,
    rule_in_force,
)
from haven.timelimits.calendar import working_days_between
from haven.vault import documents
from haven.vault.fields import index_for

from . import config, workflow
from .config import PERSONAL_FIELDS, REPORT_RULE, REVIEW_RULE
from .models import (
    COMPLAINT,
    ActionStatus,
    Complaint,
    ComplaintDocument,
    ComplaintNote,
    ComplaintStatus,
    GovernanceAction,
    GovernanceMeeting,
    HearingStatus,
    MisconductHearing,
    PanelAppointment,
    PanelMember,
    PensionForfeiture,
    PoliceAppealTribunal,
    ReviewApplication,
    ReviewStatus,
)

M = TypeVar("M", bound=Model)

PAGE_SIZE = 25
JUSTIFICATION = "oversight: complaint review function"
# Before the outcome: the investigation or handling is still running.
OPEN_STATES = frozenset(
    {
        ComplaintStatus.RECEIVED,
        ComplaintStatus.LOGGED,
        ComplaintStatus.RECORDED,
        ComplaintStatus.OUTSIDE_SCH3,
        ComplaintStatus.IOPC_REFERRED,
    }
)
UPDATE_STATES = OPEN_STATES | {ComplaintStatus.HANDLED}
SORTS = {
    "-received": ("-received_on", "-reference"),
    "received": ("received_on", "reference"),
    "reference": ("reference",),
    "status": ("status", "-received_on"),
}


class NotFound(Http404):
    pass


def _one(rows: QuerySet[M], what: str, **lookup: Any) -> M:
    """The row of ``rows`` matching ``lookup``; NotFound ("No such <what>") when there is none
    the user may see or the id is malformed, so a hidden record looks like a missing one."""
    try:
        return rows.get(**lookup)
    except (ObjectDoesNotExist, ValueError) as missing:
        raise NotFound(f"No such {what}") from missing


# The ledger entry of a read of complaint data (in the caller's @service transaction).
_consulted = partial(
    ledger.record, action=Action.CONSULTATION, object_type=COMPLAINT, justification=JUSTIFICATION
)


def complaints_for(user: User) -> QuerySet[Complaint]:
    return restrict(Complaint, user)


# ---------------------------------------------------------------------------------------------
# Deadlines, each linked to its rule


@dataclass(frozen=True)
class DeadlineView:
    title: str
    due: date
    rule_code: str
    citation: str
    explanation: str
    state: str  # "overdue", "due" or "met"
    confirmed: bool = True

    @property
    def anchor(self) -> str:
        return f"rule-{self.rule_code}"


def _view(title: str, deadline: Deadline, met: bool = False) -> DeadlineView:
    today = timezone.localdate()
    state = "met" if met else ("overdue" if today > deadline.due else "due")
    return DeadlineView(
        title=title,
        due=deadline.due,
        rule_code=deadline.rule.code,
        citation=deadline.rule.citation,
        explanation=deadline.explanation,
        state=state,
        confirmed=deadline.rule.confirmed,
    )


def update_deadline(complaint: Complaint, last_update: date | None) -> DeadlineView | None:
    if complaint.status not in UPDATE_STATES:
        return None
    start = max(last_update or complaint.received_on, complaint.received_on)
    if not rule_in_force("complaint_progress_update", start):
        return None  # a record from before the rules (refused now): no deadline, no failure
    return _view(
        "Next update to the complainant",
        compute_deadline("complaint_progress_update", start),
    )


def is_under_investigation(complaint: Complaint) -> bool:
    """PCMR 2020 reg 13 concerns "an investigation of a complaint": a complaint handled outside
    Schedule 3, or otherwise than by investigation, has no overdue-investigation report."""
    return (
        complaint.status in OPEN_STATES
        and complaint.status != ComplaintStatus.OUTSIDE_SCH3
        and complaint.investigation_started_on is not None
    )


def overdue_reports(complaint: Complaint, today: date) -> list[date]:
    """Due dates of reg 13 overdue-investigation reports already reached."""
    if not is_under_investigation(complaint) or not rule_in_force(
        REPORT_RULE, complaint.received_on
    ):
        return []
    return recurring_due_dates(REPORT_RULE, complaint.received_on, today)


def complaint_deadlines(complaint: Complaint) -> list[DeadlineView]:
    if complaint.against_commissioner:
        return []  # the PCMR 2020 clocks are the police's; ELPB Regs 2012 set none retrieved
    today = timezone.localdate()
    views = []
    last = max((u.sent_on for u in complaint.updates.all()), default=None)
    if (update := update_deadline(complaint, last)) is not None:
        views.append(update)
    if is_under_investigation(complaint) and rule_in_force(REPORT_RULE, complaint.received_on):
        reports = overdue_reports(complaint, today)
        upcoming = recurring_due_dates(REPORT_RULE, complaint.received_on, add_months(today, 7))
        next_due = next((d for d in upcoming if d > today), None)
        deadline = compute_deadline(REPORT_RULE, complaint.received_on)
        title = "Overdue-investigation report (12 months, then every 6)"
        view = _view(title, deadline)
        if reports:
            view = DeadlineView(
                title=f"{title}: {len(reports)} report(s) due so far",
                due=reports[-1],
                rule_code=view.rule_code,
                citation=view.citation,
                explanation=view.explanation + (f"; next {next_due:%d %b %Y}" if next_due else ""),
                state="overdue",
            )
        views.append(view)
    if complaint.status == ComplaintStatus.HANDLED and complaint.handled_on:
        views.append(
            _view(
                "Notify the outcome",
                compute_deadline("complaint_outcome_notification", complaint.handled_on),
            )
        )
    if complaint.outcome_notice_on:
        reviews = list(complaint.reviews.all())
        views.append(
            _view(
                "Review application window",
                compute_deadline(REVIEW_RULE, complaint.outcome_notice_on),
                met=bool(reviews) or complaint.status == ComplaintStatus.CLOSED,
            )
        )
    return views


def review_deadline(review: ReviewApplication) -> DeadlineView:
    assert review.complaint.outcome_notice_on is not None
    deadline = compute_deadline(
        REVIEW_RULE,
        review.complaint.outcome_notice_on,
        paused_days=review.forwarded_days,
        extension_days=review.extension_days,
        extension_reason=review.extension_reason or None,
    )
    view = _view("Review application due", deadline, met=review.in_time)
    if not review.in_time:
        view = DeadlineView(**{**view.__dict__, "state": "overdue"})
    return view


def hearing_deadlines(hearing: MisconductHearing) -> list[DeadlineView]:
    """Conduct Regs 2020 reg 31: the response runs from the reg 30 documents; the witness lists
    (both sides) from the day the officer actually responded, so they have no date until the
    response is recorded. The appeal notice runs from the written decision being supplied."""
    views = []
    if hearing.notice_on and hearing.status in (HearingStatus.NOTICE, HearingStatus.RESPONSE_DUE):
        response = compute_deadline("conduct_response", hearing.notice_on)
        views.append(
            _view(
                "Officer's response to the reg 30 documents",
                response,
                met=hearing.response_on is not None,
            )
        )
        if hearing.response_on is not None:
            views.append(
                _view(
                    "Witness lists (both sides)",
                    compute_deadline("conduct_witness_list", hearing.response_on),
                )
            )
    if hearing.decision_supplied_on and hearing.status == HearingStatus.APPEAL_WINDOW:
        views.append(
            _view(
                "Notice of appeal",
                compute_deadline("pat_appeal_notice", hearing.decision_supplied_on),
            )
        )
    return views


def hearing_facts_open(hearing: MisconductHearing) -> list[tuple[str, str]]:
    """The clock-starting dates that may be recorded now (services.record_hearing_fact)."""
    facts = []
    if hearing.status in (HearingStatus.NOTICE, HearingStatus.RESPONSE_DUE):
        facts.append(("response", "The officer gave the reg 31(2) response"))
    if hearing.outcome_on is not None:
        facts.append(("decision_supplied", "The written decision was supplied to the officer"))
    return facts


def tribunal_deadlines(tribunal: PoliceAppealTribunal) -> list[DeadlineView]:
    deadline = compute_deadline("pat_respondent_papers", tribunal.notice_received_on)
    return [_view("Respondent's papers", deadline, met=bool(tribunal.determination))]


# ---------------------------------------------------------------------------------------------
# Complaints


@dataclass(frozen=True)
class ComplaintSearch:
    reference: str = ""
    complainant: str = ""
    status: str = ""
    category: str = ""
    overdue: bool = False
    chief_officer: bool = False
    sort: str = "-received"


def search_complaints(user: User, search: ComplaintSearch) -> QuerySet[Complaint]:
    complaints = complaints_for(user)
    if search.reference:
        term = search.reference.strip()
        complaints = complaints.filter(
            Q(reference__icontains=term) | Q(force_reference__icontains=term)
        )
    if search.complainant:
        try:
            complaints = complaints.filter(name_index=index_for("name", search.complainant))
        except ValueError:
            complaints = complaints.none()
    if search.status:
        complaints = complaints.filter(status=search.status)
    if search.category:
        complaints = complaints.filter(category=search.category)
    if search.chief_officer:
        complaints = complaints.filter(against_chief_officer=True)
    if search.overdue:
        complaints = complaints.filter(status__in=UPDATE_STATES)
    return complaints.order_by(*SORTS.get(search.sort, SORTS["-received"])).prefetch_related(
        "updates"
    )


def is_overdue(complaint: Complaint, today: date) -> bool:
    last = max((u.sent_on for u in complaint.updates.all()), default=None)
    update = update_deadline(complaint, last)
    return bool((update and update.state == "overdue") or overdue_reports(complaint, today))


@service
def list_complaints(user: User, search: ComplaintSearch, page_number: Any) -> Page:
    """One consultation entry per page, naming the complaints shown (no personal data shown;
    a complainant-name search is itself a use of personal data)."""
    complaints = search_complaints(user, search)
    today = timezone.localdate()
    if search.overdue:
        # Deadlines are computed rules, not columns: filter the (already narrowed) set.
        complaints = [c for c in complaints if is_overdue(c, today)]  # type: ignore[assignment]
    page = Paginator(complaints, PAGE_SIZE).get_page(page_number)
    rows = list(page.object_list)
    if search.complainant:
        from haven.vault.blind_index import normalise_name

        wanted = normalise_name(search.complainant)
        rows = [c for c in rows if normalise_name(c.complainant_name) == wanted]
    for complaint in rows:
        complaint.overdue = is_overdue(complaint, today)  # type: ignore[attr-defined]
    page.object_list = rows
    _consulted(
        actor=user,
        object_id="list",
        fields=("reference", "status", "category", "received_on")
        + (("complainant_name",) if search.complainant else ()),
        details={"page": page.number, "complaints": [str(c.pk) for c in rows]},
    )
    return page


def find_complaint(user: User, complaint_id: UUID | str) -> Complaint:
    return _one(complaints_for(user), "complaint", pk=complaint_id)


@dataclass(frozen=True)
class CommissionerStep:
    """A step this user may take now on a complaint about the Commissioner: its name, label,
    citation and the facts it needs beside its date."""

    step: str
    label: str
    citation: str
    required_fields: tuple[str, ...]


def commissioner_steps(user: User, complaint: Complaint) -> list[CommissionerStep]:
    """The steps `user` may take now on `complaint` (ELPB Regs 2012,
    workflow.COMMISSIONER_COMPLAINT_TRANSITIONS); none on a complaint about anyone else."""
    if not complaint.against_commissioner:
        return []
    table = workflow.COMMISSIONER_COMPLAINT_TRANSITIONS
    steps = []
    for target in table.targets_for(user.roles, complaint.status):
        rule = table[(complaint.status, target)]
        step = workflow.COMMISSIONER_STEP_OF[(complaint.status, target)]
        label = config.COMMISSIONER_COMPLAINT_STEPS[step].label
        steps.append(CommissionerStep(step, label, rule.citation, rule.required_fields))
    return steps


@service
def get_complaint(user: User, complaint_id: UUID | str) -> Complaint:
    """The complaint with its complainant's personal data: a consultation entry."""
    complaint = find_complaint(user, complaint_id)
    _consulted(actor=user, object_id=complaint.pk, fields=PERSONAL_FIELDS)
    return complaint


def find_review(user: User, review_id: UUID | str) -> ReviewApplication:
    reviews = restrict(ReviewApplication.objects.select_related("complaint"), user)
    return _one(reviews, "review application", pk=review_id)


@service
def export_complaints(user: User, search: ComplaintSearch) -> list[Complaint]:
    """Rows for a CSV download of the list (no personal data): a disclosure entry."""
    complaints = list(search_complaints(user, search)[:10000])
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type=COMPLAINT,
        object_id="export",
        fields=("reference", "force_reference", "status", "category", "received_on", "outcome"),
        recipients=[f"download by {user.username}"],
        justification=JUSTIFICATION,
        details={"count": len(complaints)},
    )
    return complaints


# ---------------------------------------------------------------------------------------------
# Panels, hearings, tribunals, forfeiture (no personal data of complainants)


def panel_members(user: User, kind: str = "") -> QuerySet[PanelMember]:
    members = PanelMember.objects.prefetch_related("interests", "absences")
    return members.filter(kind=kind) if kind else members


def get_panel_member(user: User, member_id: UUID | str) -> PanelMember:
    return _one(panel_members(user), "panel member", pk=member_id)


def hearings(user: User) -> QuerySet[MisconductHearing]:
    return MisconductHearing.objects.prefetch_related(
        Prefetch("appointments", queryset=PanelAppointment.objects.select_related("member"))
    )


def get_hearing(user: User, hearing_id: UUID | str) -> MisconductHearing:
    return _one(hearings(user), "misconduct case", pk=hearing_id)


def panel_seats(hearing: MisconductHearing) -> list[tuple[config.Seat, PanelAppointment | None]]:
    model = config.panel_model(hearing.panel_model)
    by_seat = {a.seat: a for a in hearing.appointments.all()}
    return [(seat, by_seat.get(seat.code)) for seat in model.seats]


def tribunals(user: User) -> QuerySet[PoliceAppealTribunal]:
    return PoliceAppealTribunal.objects.select_related("hearing")


def get_tribunal(user: User, tribunal_id: UUID | str) -> PoliceAppealTribunal:
    return _one(tribunals(user), "tribunal", pk=tribunal_id)


def forfeiture_limit_for(case: PensionForfeiture) -> config.ForfeitureLimit | None:
    """The scheme's ceiling in force on the decision date (today while undecided)."""
    try:
        return config.forfeiture_limit(case.scheme, case.decision_on or timezone.localdate())
    except LookupError:
        return None


def forfeitures(user: User) -> QuerySet[PensionForfeiture]:
    return PensionForfeiture.objects.all()


def get_forfeiture(user: User, forfeiture_id: UUID | str) -> PensionForfeiture:
    return _one(forfeitures(user), "forfeiture case", pk=forfeiture_id)


def open_reviews(user: User) -> QuerySet[ReviewApplication]:
    return (
        restrict(ReviewApplication, user)
        .filter(status=ReviewStatus.RECEIVED)
        .select_related("complaint")
    )


# ---------------------------------------------------------------------------------------------
# What waits for oversight staff: statutory deadlines coming due, reviews to determine


@dataclass(frozen=True)
class DueItem:
    key: str  # the deadline: its object and rule (a moved due date is a new deadline)
    reference: str
    title: str
    due: date | None
    state: str  # "overdue" or "due"
    link: str
    working_days_left: int | None = None

    @property
    def overdue(self) -> bool:
        return self.state == "overdue"


def _due_item(key: str, reference: str, link: str, view: DeadlineView, today: date) -> DueItem:
    left = working_days_between(today, view.due)
    state = "overdue" if view.state == "overdue" or left < 0 else "due"
    return DueItem(key, reference, view.title, view.due, state, link, left)


def deadlines_due(user: User, within_working_days: int, today: date | None = None) -> list[DueItem]:
    """Statutory deadlines the user's office must meet that are overdue or fall due within
    `within_working_days` working days, on the records the user may see, soonest first.
    The complainant's own deadline (applying for a review) is theirs, not the office's."""
    today = today or timezone.localdate()
    items: list[DueItem] = []
    complaints = (
        complaints_for(user)
        .filter(status__in=UPDATE_STATES)
        .only(
            "id",
            "reference",
            "status",
            "received_on",
            "handled_on",
            "outcome_notice_on",
            "investigation_started_on",
            "against_commissioner",
        )
        .prefetch_related("updates", "reviews")
    )
    for complaint in complaints:
        link = f"/oversight/complaints/{complaint.pk}/"
        for view in complaint_deadlines(complaint):
            if view.state != "met" and view.rule_code != REVIEW_RULE:
                key = f"complaint:{complaint.pk}:{view.rule_code}"
                items.append(_due_item(key, complaint.reference, link, view, today))
    for hearing in hearings(user).exclude(status=HearingStatus.FINAL):
        link = f"/oversight/hearings/{hearing.pk}/"
        for view in hearing_deadlines(hearing):
            key = f"hearing:{hearing.pk}:{view.rule_code}"
            items.append(_due_item(key, hearing.reference, link, view, today))
    for tribunal in tribunals(user).filter(determination=""):
        link = f"/oversight/tribunals/{tribunal.pk}/"
        for view in tribunal_deadlines(tribunal):
            if view.state != "met":
                key = f"tribunal:{tribunal.pk}:{view.rule_code}"
                items.append(_due_item(key, tribunal.reference, link, view, today))
    soon = [
        item
        for item in items
        if item.overdue or (item.working_days_left or 0) <= within_working_days
    ]
    return sorted(soon, key=lambda item: (item.due or today, item.reference))


def reviews_to_determine(user: User) -> list[DueItem]:
    return [
        DueItem(
            key=f"review:{review.pk}",
            reference=review.complaint.reference,
            title="Review application to determine",
            due=None,
            state="due",
            link=f"/oversight/complaints/{review.complaint_id}/",
        )
        for review in open_reviews(user).order_by("received_on")
    ]


def awaiting_horizon() -> int:
    thresholds = config.reminder_thresholds()
    return thresholds[0] if thresholds else 0


@service
def awaiting_oversight(user: User) -> list[DueItem]:
    """The oversight "awaiting you" list: deadlines coming due, then reviews to determine.
    Shows references and deadline titles only; the read is ledgered like the complaint list."""
    items = deadlines_due(user, awaiting_horizon()) + reviews_to_determine(user)
    if items:
        _consulted(
            actor=user,
            object_id="awaiting",
            fields=("reference", "status", "deadlines"),
            details={"items": [item.key for item in items][:500]},
        )
    return items


# ---------------------------------------------------------------------------------------------
# Ownership and caseloads


def my_complaints(user: User) -> QuerySet[Complaint]:
    """Open complaints assigned to ``user`` (no personal field read: references and dates)."""
    return (
        complaints_for(user)
        .filter(assignee=user)
        .exclude(status=ComplaintStatus.CLOSED)
        .order_by("received_on", "reference")
    )


def my_reviews(user: User) -> QuerySet[ReviewApplication]:
    return restrict(ReviewApplication.objects.select_related("complaint"), user).filter(
        assignee=user, status=ReviewStatus.RECEIVED
    )


@dataclass(frozen=True)
class Caseload:
    caseworker: User
    complaints: int
    reviews: int
    overdue: int


def caseloads(user: User) -> tuple[list[Caseload], int]:
    """Each caseworker's open complaints and reviews, and the open complaints nobody owns.
    Counts only (no personal field read); the complaints counted are those ``user`` may see."""
    from . import permissions

    visible = complaints_for(user).exclude(status=ComplaintStatus.CLOSED)
    reviews = restrict(ReviewApplication, user).filter(status=ReviewStatus.RECEIVED)
    lines = []
    for person in User.objects.filter(is_active=True).order_by("username"):
        if not permissions.is_caseworker(person):
            continue
        owned = list(visible.filter(assignee=person))
        overdue = sum(
            1
            for complaint in owned
            if any(d.state == "overdue" for d in complaint_deadlines(complaint))
        )
        lines.append(
            Caseload(
                caseworker=person,
                complaints=len(owned),
                reviews=reviews.filter(assignee=person).count(),
                overdue=overdue,
            )
        )
    return lines, visible.filter(assignee__isnull=True).count()


def assignable_caseworkers(complaint: Complaint) -> list[User]:
    """Active caseworkers cleared to see ``complaint`` (the choices an assign form offers)."""
    from . import permissions

    return [
        person
        for person in User.objects.filter(is_active=True).order_by("username")
        if permissions.is_caseworker(person)
        and complaints_for(person).filter(pk=complaint.pk).exists()
    ]


def _filed_on(
    user: User, complaint: Complaint, rows: QuerySet[M], fields: tuple[str, ...]
) -> list[M]:
    """The rows filed on ``complaint`` that the user may see; reading any is a consultation."""
    found = list(restrict(rows, user).filter(complaint=complaint))
    if found:
        _consulted(actor=user, object_id=complaint.pk, fields=fields)
    return found


@service
def get_notes(user: User, complaint: Complaint) -> list[ComplaintNote]:
    """Notes and correspondence on a complaint the user may see: a consultation entry."""
    notes = ComplaintNote.objects.select_related("author", "review")
    return _filed_on(user, complaint, notes, ("notes.text", "notes.party"))


@service
def get_documents(user: User, complaint: Complaint) -> list[ComplaintDocument]:
    """Documents on a complaint the user may see (titles and names): a consultation entry."""
    found = ComplaintDocument.objects.select_related("uploaded_by", "review")
    return _filed_on(user, complaint, found, ("documents.title", "documents.filename"))


def find_document(
    user: User, complaint_id: UUID | str, document_id: UUID | str
) -> ComplaintDocument:
    """A document on a complaint the user may see; 404 otherwise (no ledger entry: no content)."""
    complaint = find_complaint(user, complaint_id)
    documents_seen = restrict(ComplaintDocument.objects.all(), user)
    return _one(documents_seen, "document", complaint=complaint, pk=document_id)


@service
def read_document(
    user: User, complaint_id: UUID | str, document_id: UUID | str
) -> tuple[ComplaintDocument, bytes]:
    """Download: decrypt the blob and ledger a disclosure to the downloading user."""
    found = find_document(user, complaint_id, document_id)
    data = documents.open_sealed(found.blob_id, found.blob_aad())
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type=COMPLAINT,
        object_id=found.complaint_id,
        fields=("documents.content", "documents.filename"),
        recipients=[user.username],
        justification=JUSTIFICATION,
        details={"document": str(found.pk), "sha256": found.sha256},
    )
    return found, data


# ---------------------------------------------------------------------------------------------
# Governance: meetings, decisions and actions


def meetings(user: User) -> QuerySet[GovernanceMeeting]:
    return restrict(GovernanceMeeting, user)


def find_meeting(user: User, meeting_id: UUID | str) -> GovernanceMeeting:
    return _one(meetings(user), "meeting", pk=meeting_id)


def open_actions(user: User) -> QuerySet[GovernanceAction]:
    return GovernanceAction.objects.filter(
        meeting__in=meetings(user), status=ActionStatus.OPEN
    ).select_related("meeting", "owner")


def my_actions(user: User) -> QuerySet[GovernanceAction]:
    return open_actions(user).filter(owner=user)


def find_action(user: User, action_id: int | str) -> GovernanceAction:
    actions = GovernanceAction.objects.select_related("meeting")
    return _one(actions, "action", pk=action_id, meeting__in=meetings(user))

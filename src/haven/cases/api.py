"""Case endpoints. Protected reads need an `X-Haven-Purpose` header (logged as justification)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import field_validator

from haven import csvfiles
from haven.access import policy
from haven.accounts.models import User
from haven.accounts.roles import Clearance
from haven.accounts.types import AuthenticatedRequest
from haven.revisions import CorrectionReason, HistoryOut, correction
from haven.ui.apihelpers import (
    CaseId,
    PageOf,
    QueryFilters,
    attempt,
    declared_purpose,
    indexable_name,
    named_user,
    page_body,
    refuse,
    uploaded_content,
)
from haven.ui.bounds import MAX_DAYS
from haven.ui.helpers import attachment
from haven.vault.blind_index import normalise_date

from . import selectors, services
from .config import DOCUMENT_MAX_BYTES
from .models import (
    OBJECT_TYPE,
    CaseStatus,
    Concern,
    ContactMethod,
    LocationKind,
    MayBeTold,
    PersonRole,
    Relationship,
    TaskKind,
    TaskStatus,
    Urgency,
)

router = Router(tags=["cases"])


class CaseOut(Schema):
    id: UUID
    reference: str
    status: CaseStatus
    marking: str
    subject_name: str
    subject_dob: date | None
    address: str
    version: int
    urgency: Urgency
    referring_organisation: str
    referring_officer: str
    threat_summary: str | None
    received_at: datetime
    provider: str


class CaseSummary(Schema):
    id: UUID
    reference: str
    status: CaseStatus
    marking: str
    subject_name: str
    urgency: Urgency
    referring_organisation: str
    received_at: datetime


class CaseFilters(QueryFilters):
    reference: str = Field("", max_length=20)
    status: CaseStatus | Literal[""] = ""
    sort: str = Field("-created", max_length=20)
    urgency: Urgency | Literal[""] = ""
    organisation: str = Field("", max_length=200)
    older_than_days: int | None = Field(None, ge=0, le=MAX_DAYS)
    page: int = Field(1, ge=1)


class CaseSearchIn(CaseFilters):
    """A search by a person's exact name or date of birth, sent as a POST body so that
    personal data never appears in a URL or the server's request log."""

    name: str = Field("", max_length=200)
    dob: str = Field("", max_length=40, description="e.g. 1980-03-07, 7/3/1980, 7 March 1980")

    @field_validator("name")
    @classmethod
    def _indexable_name(cls, value: str) -> str:
        return indexable_name(value)

    @field_validator("dob")
    @classmethod
    def _real_date(cls, value: str) -> str:
        if value.strip():
            normalise_date(value)  # ValueError says why: becomes a 422 naming the field
        return value


PERSONAL_QUERY = ("name", "dob")


def valued_changes(payload: Schema) -> dict[str, Any]:
    """A change to a directory entry or a checklist as its service's keywords: the version, the
    reason and each field sent with a value (a field left out, or sent as null, is unchanged)."""
    return {key: value for key, value in correction(payload).items() if value is not None}


def refuse_personal_query(request: AuthenticatedRequest) -> None:
    """A name or date of birth in a URL lands in logs and histories: refuse it, naming the
    operation to use instead (ninja would otherwise ignore the parameter and list all)."""
    for field in PERSONAL_QUERY:
        if field in request.GET:
            raise HttpError(422, f"{field}: search people with POST /api/cases/search")


class IdentityOut(Schema):
    legacy_name: str
    legacy_dob: date | None
    new_name: str
    new_dob: date | None


class GrantIn(Schema):
    username: str
    reason: str = Field(..., max_length=2000)
    days: int = Field(..., ge=1, le=30)


class BreakGlassIn(Schema):
    reference: str = Field(..., max_length=20)
    reason: str = Field(..., max_length=2000)


class CaseUpdateIn(Schema):
    version: int
    reason: str = Field(..., max_length=2000)
    subject_name: str | None = Field(None, max_length=500)
    subject_dob: date | None = None
    address: str | None = Field(None, max_length=2000)


@router.get("/cases", response=PageOf[CaseSummary], summary="Cases you may see")
def list_cases(request: AuthenticatedRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    refuse_personal_query(request)
    user = request.user
    purpose = declared_purpose(request)
    page = selectors.list_cases(user, search_of(filters), filters.page, purpose)
    return page_body(page)


@router.post(
    "/cases/search",
    response=PageOf[CaseSummary],
    summary="Cases you may see, found by a person's exact name or date of birth",
)
def search_cases(request: AuthenticatedRequest, payload: CaseSearchIn) -> dict[str, Any]:
    user = request.user
    purpose = declared_purpose(request)
    page = selectors.list_cases(user, search_of(payload), payload.page, purpose)
    return page_body(page)


@router.get("/cases/{case_id}", response=CaseOut, summary="One case")
def get_case(request: AuthenticatedRequest, case_id: CaseId) -> object:
    return selectors.get_case(request.user, case_id, declared_purpose(request))


@router.patch("/cases/{case_id}", response=CaseOut, summary="Change a case's details")
def update_case(request: AuthenticatedRequest, case_id: CaseId, payload: CaseUpdateIn) -> object:
    try:
        return services.update_case(request.user, case_id, **correction(payload))
    except services.ConflictError as conflict:
        raise HttpError(409, str(conflict)) from conflict
    except ValidationError as error:
        raise refuse(error) from error


def search_of(filters: CaseFilters) -> selectors.CaseSearch:
    return selectors.CaseSearch(
        reference=filters.reference,
        name=getattr(filters, "name", ""),
        dob=getattr(filters, "dob", ""),
        status=filters.status,
        sort=filters.sort,
        urgency=filters.urgency,
        organisation=filters.organisation,
        older_than_days=filters.older_than_days,
    )


@router.get("/cases/{case_id}/identity", response=IdentityOut, summary="Identity compartment")
def get_identity(request: AuthenticatedRequest, case_id: CaseId) -> object:
    record = selectors.get_identity(request.user, case_id, declared_purpose(request))
    if record is None:
        raise HttpError(404, "No identity change is recorded for this case")
    return record


@router.post("/cases/{case_id}/grants", response={201: dict}, summary="Grant time-limited access")
def grant_access(request: AuthenticatedRequest, case_id: CaseId, payload: GrantIn) -> Status[dict]:
    grantee = User.objects.filter(username=payload.username, is_active=True).first()
    if grantee is None:
        raise HttpError(422, f"No active account {payload.username!r}")
    try:
        grant = services.grant_access(
            request.user, case_id, grantee, reason=payload.reason, days=payload.days
        )
    except ValidationError as error:
        raise refuse(error) from error
    return Status(201, {"expires_at": grant.expires_at.isoformat()})


class TeamPlaceOut(Schema):
    id: int
    username: str
    team_role: str


class GrantOut(Schema):
    id: int
    username: str
    kind: str
    expires_at: datetime
    granted_by: str


class TeamOut(Schema):
    team: list[TeamPlaceOut]
    grants: list[GrantOut]


class TeamChangeReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000)


@router.get("/cases/{case_id}/team", response=TeamOut, summary="The team and current grants")
def get_team(request: AuthenticatedRequest, case_id: CaseId) -> dict:
    case = selectors.find_visible_case(request.user, case_id)
    return {
        "team": [
            {"id": m.pk, "username": m.user.username, "team_role": m.team_role}
            for m in policy.team_of(OBJECT_TYPE, case.pk)
        ],
        "grants": [
            {
                "id": g.pk,
                "username": g.user.username,
                "kind": g.kind,
                "expires_at": g.expires_at,
                "granted_by": g.granted_by.username,
            }
            for g in policy.live_grants(OBJECT_TYPE, case.pk)
        ],
    }


@router.post(
    "/cases/{case_id}/team/{membership_id}/removal",
    response={204: None},
    summary="Take someone off the team, with the reason",
)
def remove_member(
    request: AuthenticatedRequest, case_id: CaseId, membership_id: int, payload: TeamChangeReasonIn
) -> Status[None]:
    user = request.user
    attempt(lambda: services.remove_team_member(user, case_id, membership_id, **payload.dict()))
    return Status(204, None)


@router.post(
    "/cases/{case_id}/grants/{grant_id}/revocation",
    response={204: None},
    summary="Revoke a current grant now, with the reason",
)
def revoke_grant(
    request: AuthenticatedRequest, case_id: CaseId, grant_id: int, payload: TeamChangeReasonIn
) -> Status[None]:
    user = request.user
    attempt(lambda: services.revoke_grant(user, case_id, grant_id, **payload.dict()))
    return Status(204, None)


@router.post("/break-glass", response={201: dict}, summary="Emergency access for managers")
def break_glass(request: AuthenticatedRequest, payload: BreakGlassIn) -> Status[dict]:
    try:
        case = services.break_glass(request.user, payload.reference, payload.reason)
    except ValidationError as error:
        raise refuse(error) from error
    return Status(201, {"id": str(case.pk), "reference": case.reference})


@router.put("/cases/{case_id}/identity", response=IdentityOut, summary="Record the identity link")
def put_identity(request: AuthenticatedRequest, case_id: CaseId, payload: IdentityOut) -> object:
    user = request.user
    return attempt(lambda: services.record_identity(user, case_id, **payload.dict()))


# --------------------------------------------------------------------------- casework

Text = Field(..., min_length=1, max_length=5000)
OptionalText = Field("", max_length=5000)
Name = Field(..., min_length=1, max_length=200)


class ReferralIn(Schema):
    subject_name: str = Name
    subject_dob: date | None = None
    referring_organisation: str = Name
    referring_officer: str = Name
    threat_summary: str = Text
    urgency: Urgency
    received_at: datetime | None = None
    classification: int = Field(Clearance.SECRET, ge=1, le=3)
    manager: str | None = Field(None, max_length=150)
    authoriser: str | None = Field(None, max_length=150)
    confirm_duplicate: bool = False


class DuplicateOut(Schema):
    visible: list[str]
    message: str


class ReferralOut(Schema):
    case: CaseOut | None
    duplicates: DuplicateOut | None


@router.post(
    "/referrals",
    response={201: ReferralOut, 200: ReferralOut},
    summary="Record a referral (warns about possible duplicates first)",
)
def create_referral(request: AuthenticatedRequest, payload: ReferralIn) -> Status[dict[str, Any]]:
    user = request.user
    if not user.has_role("protection_officer", "protection_manager"):
        raise HttpError(403, "Only protection officers and managers record referrals")
    data = payload.dict(exclude={"confirm_duplicate", "manager", "authoriser"})
    if not payload.confirm_duplicate:
        report = services.check_duplicates(user, payload.subject_name, payload.subject_dob)
        if report.any:
            return Status(200, {"case": None, "duplicates": report.as_dict()})
    manager = named_user(payload.manager, "manager")
    authoriser = named_user(payload.authoriser, "authoriser")
    case = attempt(
        lambda: services.create_case(user, manager=manager, authoriser=authoriser, **data)
    )
    return Status(201, {"case": case, "duplicates": None})


@router.get(
    "/triage", response=PageOf[CaseSummary], summary="Referrals awaiting assessment or decision"
)
def triage(request: AuthenticatedRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    refuse_personal_query(request)
    user = request.user
    page = selectors.triage_queue(user, search_of(filters), filters.page, declared_purpose(request))
    return page_body(page)


@router.get("/case-export", summary="The case list as CSV (logged as a disclosure)")
def export_cases(request: AuthenticatedRequest, filters: Query[CaseFilters]) -> HttpResponse:
    refuse_personal_query(request)
    user = request.user
    content = selectors.export_cases_csv(user, search_of(filters), declared_purpose(request))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csvfiles.attachment(content, f"cases-{stamp}.csv")


class ArrangementDecisionIn(Schema):
    to_status: CaseStatus
    version: int
    reason: str = Text
    decided_on: date | None = None
    factor_risk: str = OptionalText
    factor_cost: str = OptionalText
    factor_adjustment: str = OptionalText
    factor_proceedings: str = OptionalText
    receiving_provider: str = Field("", max_length=200)
    effective_date: date | None = None
    cost_terms: str = OptionalText
    receiving_recorded_by: str = Field("", max_length=200)
    receiving_recorded_on: date | None = None


class ArrangementDecisionOut(Schema):
    id: UUID
    from_status: CaseStatus
    to_status: CaseStatus
    decided_on: date
    decision_maker: str = Field(alias="decision_maker.username")
    reason: str
    factor_risk: str | None
    factor_cost: str | None
    factor_adjustment: str | None
    factor_proceedings: str | None
    citation: str


@router.post(
    "/cases/{case_id}/decisions",
    response={201: ArrangementDecisionOut},
    summary="Change arrangement status",
)
def decide(
    request: AuthenticatedRequest, case_id: CaseId, payload: ArrangementDecisionIn
) -> Status[object]:
    user = request.user
    data = payload.dict()
    factors = {k: data.pop(k) for k in list(data) if k.startswith("factor_")}
    transfer = {
        k: data.pop(k)
        for k in (
            "receiving_provider",
            "effective_date",
            "cost_terms",
            "receiving_recorded_by",
            "receiving_recorded_on",
        )
    }
    decision = attempt(
        lambda: services.change_status(user, case_id, factors=factors, transfer=transfer, **data)
    )
    return Status(201, decision)


@router.get(
    "/cases/{case_id}/decisions", response=list[ArrangementDecisionOut], summary="Decision record"
)
def list_decisions(request: AuthenticatedRequest, case_id: CaseId) -> object:
    return selectors.case_records(request.user, case_id, "decision", declared_purpose(request))


class JointProviderIn(Schema):
    provider: str = Name
    agreed_on: date
    exercises_arrangements: bool = False


@router.post("/cases/{case_id}/joint-providers", response={201: dict}, summary="s.83 joint")
def add_joint_provider(
    request: AuthenticatedRequest, case_id: CaseId, payload: JointProviderIn
) -> Status[dict]:
    user = request.user
    joint = attempt(lambda: services.add_joint_provider(user, case_id, **payload.dict()))
    return Status(201, {"id": str(joint.pk), "provider": joint.provider})


class TimelineOut(Schema):
    when: datetime
    title: str
    kind: str
    by: str
    body: str


@router.get("/cases/{case_id}/timeline", response=list[TimelineOut], summary="Case timeline")
def timeline(request: AuthenticatedRequest, case_id: CaseId) -> object:
    case_file = selectors.get_case_file(request.user, case_id, declared_purpose(request))
    return case_file.timeline()


class PersonIn(Schema):
    full_name: str = Name
    relationship: Relationship
    dob: date | None = None
    phone: str = Field("", max_length=40)
    notes: str = OptionalText


class PersonPatch(Schema):
    version: int
    full_name: str | None = Field(None, min_length=1, max_length=200)
    relationship: Relationship | None = None
    dob: date | None = None
    phone: str | None = Field(None, max_length=40)
    notes: str | None = Field(None, max_length=5000)


class PersonOut(Schema):
    id: UUID
    role: PersonRole
    relationship: Relationship
    full_name: str
    dob: date | None
    phone: str | None
    notes: str | None
    version: int


@router.get("/cases/{case_id}/people", response=list[PersonOut], summary="People on a case")
def list_people(request: AuthenticatedRequest, case_id: CaseId) -> object:
    return selectors.case_records(request.user, case_id, "person", declared_purpose(request))


@router.post("/cases/{case_id}/people", response={201: PersonOut}, summary="Add a person")
def add_person(request: AuthenticatedRequest, case_id: CaseId, payload: PersonIn) -> Status[object]:
    user = request.user
    return Status(201, attempt(lambda: services.add_person(user, case_id, **payload.dict())))


@router.patch(
    "/cases/{case_id}/people/{case_person_id}", response=PersonOut, summary="Change a person"
)
def update_person(
    request: AuthenticatedRequest, case_id: CaseId, case_person_id: UUID, payload: PersonPatch
) -> object:
    user = request.user
    return attempt(
        lambda: services.update_person(user, case_id, case_person_id, **correction(payload))
    )


class LocationIn(Schema):
    kind: LocationKind
    address: str = Text
    valid_from: date
    valid_to: date | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    person_id: UUID | None = None


class LocationOut(Schema):
    id: UUID
    kind: LocationKind
    address: str
    coordinates: dict | None
    valid_from: date
    valid_to: date | None
    version: int


class LocationCorrection(CorrectionReason):
    kind: LocationKind | None = None
    address: str | None = Field(None, min_length=1, max_length=5000)
    valid_from: date | None = None
    valid_to: date | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    person_id: UUID | None = None


class LocationEnding(CorrectionReason):
    ended_on: date


@router.get("/cases/{case_id}/locations", response=list[LocationOut], summary="Locations")
def list_locations(request: AuthenticatedRequest, case_id: CaseId) -> object:
    return selectors.case_records(request.user, case_id, "location", declared_purpose(request))


@router.post("/cases/{case_id}/locations", response={201: LocationOut}, summary="Add a location")
def add_location(
    request: AuthenticatedRequest, case_id: CaseId, payload: LocationIn
) -> Status[object]:
    user = request.user
    return Status(201, attempt(lambda: services.add_location(user, case_id, **payload.dict())))


class ContactIn(Schema):
    occurred_at: datetime
    method: ContactMethod
    summary: str = Text
    concerns: list[Concern] = Field(default_factory=list, max_length=10)
    follow_up: str = OptionalText
    follow_up_due: date | None = None
    person_id: UUID | None = None
    partner_id: UUID | None = None


class ContactOut(Schema):
    id: UUID
    partner_id: UUID | None = None
    occurred_at: datetime
    method: ContactMethod
    summary: str
    concerns: list[Concern] | None
    follow_up: str | None
    follow_up_due: date | None
    version: int
    withdrawn_at: datetime | None = None  # withdrawn as entered in error: kept, shown apart


class ContactCorrection(CorrectionReason):
    occurred_at: datetime | None = None
    method: ContactMethod | None = None
    summary: str | None = Field(None, min_length=1, max_length=5000)
    concerns: list[Concern] | None = Field(None, max_length=10)
    follow_up: str | None = Field(None, max_length=5000)
    follow_up_due: date | None = None
    person_id: UUID | None = None


@router.get("/cases/{case_id}/contacts", response=list[ContactOut], summary="Contact log")
def list_contacts(request: AuthenticatedRequest, case_id: CaseId) -> object:
    return selectors.case_records(request.user, case_id, "contact", declared_purpose(request))


@router.post("/cases/{case_id}/contacts", response={201: ContactOut}, summary="Log a contact")
def add_contact(
    request: AuthenticatedRequest, case_id: CaseId, payload: ContactIn
) -> Status[object]:
    user = request.user
    return Status(201, attempt(lambda: services.log_contact(user, case_id, **payload.dict())))


def history(request: AuthenticatedRequest, case_id: CaseId, kind: str, record_id: UUID) -> object:
    record, revisions = selectors.record_history(
        request.user, case_id, kind, record_id, declared_purpose(request)
    )
    return {"version": record.version, "earlier": revisions}


@router.patch(
    "/cases/{case_id}/locations/{case_location_id}",
    response=LocationOut,
    summary="Correct a location (with the version read and a reason)",
)
def correct_location(
    request: AuthenticatedRequest,
    case_id: CaseId,
    case_location_id: UUID,
    payload: LocationCorrection,
) -> object:
    user = request.user
    return attempt(
        lambda: services.correct_location(user, case_id, case_location_id, **correction(payload))
    )


@router.post(
    "/cases/{case_id}/locations/{case_location_id}/ending",
    response=LocationOut,
    summary="End a location no longer used (it is kept, with an end date)",
)
def end_location(
    request: AuthenticatedRequest, case_id: CaseId, case_location_id: UUID, payload: LocationEnding
) -> object:
    user = request.user
    return attempt(
        lambda: services.end_location(user, case_id, case_location_id, **correction(payload))
    )


@router.get(
    "/cases/{case_id}/locations/{case_location_id}/history",
    response=HistoryOut,
    summary="A location's earlier versions",
)
def location_history(
    request: AuthenticatedRequest, case_id: CaseId, case_location_id: UUID
) -> object:
    return history(request, case_id, "location", case_location_id)


@router.patch(
    "/cases/{case_id}/contacts/{case_contact_id}",
    response=ContactOut,
    summary="Correct a contact log entry (with the version read and a reason)",
)
def correct_contact(
    request: AuthenticatedRequest,
    case_id: CaseId,
    case_contact_id: UUID,
    payload: ContactCorrection,
) -> object:
    user = request.user
    return attempt(
        lambda: services.correct_contact(user, case_id, case_contact_id, **correction(payload))
    )


@router.post(
    "/cases/{case_id}/contacts/{case_contact_id}/withdrawal",
    response=ContactOut,
    summary="Withdraw a contact log entry entered in error (kept, shown as withdrawn)",
)
def withdraw_contact(
    request: AuthenticatedRequest,
    case_id: CaseId,
    case_contact_id: UUID,
    payload: CorrectionReason,
) -> object:
    user = request.user
    return attempt(
        lambda: services.withdraw_contact(user, case_id, case_contact_id, **correction(payload))
    )


@router.get(
    "/cases/{case_id}/contacts/{case_contact_id}/history",
    response=HistoryOut,
    summary="A contact log entry's earlier versions",
)
def contact_history(
    request: AuthenticatedRequest, case_id: CaseId, case_contact_id: UUID
) -> object:
    return history(request, case_id, "contact", case_contact_id)


class TaskIn(Schema):
    title: str = Field(..., min_length=1, max_length=300)
    due_on: date
    kind: Literal["task", "review"] = "task"
    owner: str | None = Field(None, max_length=150)
    details: str = OptionalText


class TaskOut(Schema):
    id: UUID
    kind: TaskKind
    title: str
    details: str | None
    owner: str = Field(alias="owner.username")
    due_on: date
    status: TaskStatus
    response: str | None
    overdue: bool
    version: int
    case_reference: str = Field(alias="case.reference")


class EscalationIn(Schema):
    question: str = Text
    manager: str | None = Field(None, max_length=150)


class CompleteIn(Schema):
    version: int
    response: str = OptionalText


@router.get("/cases/{case_id}/tasks", response=list[TaskOut], summary="Tasks on a case")
def list_tasks(request: AuthenticatedRequest, case_id: CaseId) -> object:
    return selectors.case_records(request.user, case_id, "task", declared_purpose(request))


@router.post("/cases/{case_id}/tasks", response={201: TaskOut}, summary="Set a task or review")
def add_task(request: AuthenticatedRequest, case_id: CaseId, payload: TaskIn) -> Status[object]:
    user = request.user
    data = payload.dict()
    owner = named_user(data.pop("owner"), "owner")
    return Status(201, attempt(lambda: services.create_task(user, case_id, owner=owner, **data)))


@router.post(
    "/cases/{case_id}/tasks/{case_task_id}/complete", response=TaskOut, summary="Complete a task"
)
def complete_task(
    request: AuthenticatedRequest, case_id: CaseId, case_task_id: UUID, payload: CompleteIn
) -> object:
    user = request.user
    return attempt(lambda: services.complete_task(user, case_id, case_task_id, **payload.dict()))


@router.post(
    "/cases/{case_id}/escalations", response={201: TaskOut}, summary="Escalate to a manager"
)
def escalate(
    request: AuthenticatedRequest, case_id: CaseId, payload: EscalationIn
) -> Status[object]:
    user = request.user
    manager = named_user(payload.manager, "manager")
    return Status(
        201,
        attempt(
            lambda: services.escalate(user, case_id, question=payload.question, manager=manager)
        ),
    )


@router.get("/my-work", response=list[TaskOut], summary="Your open tasks, reviews, escalations")
def my_work(request: AuthenticatedRequest) -> object:
    return selectors.my_work(request.user, declared_purpose(request))


class DashboardOut(Schema):
    overdue: list[TaskOut]
    escalations: list[TaskOut]
    status_counts: dict[str, int]
    ageing: dict[str, int]
    cases: int


@router.get("/dashboard", response=DashboardOut, summary="Manager dashboard")
def dashboard(request: AuthenticatedRequest) -> object:
    user = request.user
    if not user.has_role("protection_manager"):
        raise PermissionDenied("The dashboard is for protection managers")
    return selectors.manager_dashboard(user, declared_purpose(request))


class DocumentIn(Schema):
    title: str = Field(..., min_length=1, max_length=300)
    filename: str = Field(..., min_length=1, max_length=200)
    content_base64: str = Field(..., max_length=(DOCUMENT_MAX_BYTES * 4) // 3 + 8)


class DocumentOut(Schema):
    id: UUID
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


@router.get("/cases/{case_id}/documents", response=list[DocumentOut], summary="Documents")
def list_documents(request: AuthenticatedRequest, case_id: CaseId) -> object:
    return selectors.case_records(request.user, case_id, "document", declared_purpose(request))


@router.post(
    "/cases/{case_id}/documents", response={201: DocumentOut}, summary="Upload (base64 JSON)"
)
def upload_document(
    request: AuthenticatedRequest, case_id: CaseId, payload: DocumentIn
) -> Status[object]:
    user = request.user
    selectors.find_visible_case(user, case_id)  # 404 before looking at the content
    data = uploaded_content(payload.content_base64)
    return Status(
        201,
        attempt(
            lambda: services.upload_document(
                user, case_id, title=payload.title, filename=payload.filename, data=data
            )
        ),
    )


@router.get("/cases/{case_id}/documents/{case_document_id}", summary="Download (logged disclosure)")
def download_document(
    request: AuthenticatedRequest, case_id: CaseId, case_document_id: UUID
) -> HttpResponse:
    document, data = selectors.read_document(
        request.user, case_id, case_document_id, declared_purpose(request)
    )
    return attachment(data, str(document.pk), document.content_type)


# --------------------------------------------------------------------------- partner directory
# Read by every protection user (the router's module); changed by protection managers only.


class PartnerOut(Schema):
    id: UUID
    organisation: str
    contact_name: str
    role: str
    contact_details: str
    may_be_told: MayBeTold
    may_be_told_notes: str
    version: int
    retired_at: datetime | None


class PartnerIn(Schema):
    organisation: str = Name
    contact_name: str = Name
    role: str = Field("", max_length=200)
    contact_details: str = Field(..., min_length=1, max_length=2000)
    may_be_told: MayBeTold
    may_be_told_notes: str = Field("", max_length=2000)


class PartnerChange(CorrectionReason):
    organisation: str | None = Field(None, min_length=1, max_length=200)
    contact_name: str | None = Field(None, min_length=1, max_length=200)
    role: str | None = Field(None, max_length=200)
    contact_details: str | None = Field(None, min_length=1, max_length=2000)
    may_be_told: MayBeTold | None = None
    may_be_told_notes: str | None = Field(None, max_length=2000)


class PartnerRetirement(CorrectionReason):
    pass


class PartnerFilters(QueryFilters):
    include_retired: bool = False


@router.get("/partners", response=list[PartnerOut], summary="The partner directory")
def list_partners(request: AuthenticatedRequest, filters: Query[PartnerFilters]) -> object:
    return selectors.list_partners(request.user, include_retired=filters.include_retired)


@router.get("/partners/{partner_id}", response=PartnerOut, summary="A partner directory entry")
def get_partner(request: AuthenticatedRequest, partner_id: UUID) -> object:
    return selectors.get_partner(request.user, partner_id)


@router.get(
    "/partners/{partner_id}/history",
    response=HistoryOut,
    summary="A partner entry's earlier versions (who changed what, when and why)",
)
def partner_history(request: AuthenticatedRequest, partner_id: UUID) -> object:
    partner, revisions = selectors.partner_history(request.user, partner_id)
    return {"version": partner.version, "earlier": revisions}


@router.post("/partners", response={201: PartnerOut}, summary="Add a partner (managers)")
def add_partner(request: AuthenticatedRequest, payload: PartnerIn) -> Status[object]:
    user = request.user
    return Status(201, attempt(lambda: services.add_partner(user, **payload.dict())))


@router.patch(
    "/partners/{partner_id}",
    response=PartnerOut,
    summary="Change a partner entry (managers; with the version read and a reason)",
)
def edit_partner(request: AuthenticatedRequest, partner_id: UUID, payload: PartnerChange) -> object:
    changes = valued_changes(payload)
    user = request.user
    return attempt(lambda: services.edit_partner(user, partner_id, **changes))


@router.post(
    "/partners/{partner_id}/retirement",
    response=PartnerOut,
    summary="Retire a partner entry (managers; never deleted)",
)
def retire_partner(
    request: AuthenticatedRequest, partner_id: UUID, payload: PartnerRetirement
) -> object:
    user = request.user
    return attempt(lambda: services.retire_partner(user, partner_id, **correction(payload)))


# --------------------------------------------------------------------------- checklists
# Read by every protection user; kept by protection managers; applied by a case's team.


class ChecklistItemSchema(Schema):
    title: str = Field(..., min_length=1, max_length=300)
    kind: Literal["task", "review"] = "task"
    due_in_days: int | None = Field(None, ge=0, le=3650)


class ChecklistOut(Schema):
    id: UUID
    name: str
    version: int
    items: list[ChecklistItemSchema]
    retired_at: datetime | None


class ChecklistTemplateIn(Schema):
    name: str = Name
    items: list[ChecklistItemSchema] = Field(..., min_length=1, max_length=40)


class ChecklistChange(CorrectionReason):
    name: str | None = Field(None, min_length=1, max_length=200)
    items: list[ChecklistItemSchema] | None = Field(None, min_length=1, max_length=40)


class ChecklistRetirement(CorrectionReason):
    pass


class ChecklistFilters(QueryFilters):
    include_retired: bool = False


class ChecklistApplication(Schema):
    checklist_id: UUID
    owner: str | None = Field(None, max_length=150)
    start_on: date | None = None
    confirm_repeat: bool = Field(
        False, description="Apply a checklist the case already has (refused with 422 without it)"
    )


def checklist_out(template: Any) -> dict[str, Any]:
    return {
        "id": template.pk,
        "name": template.name,
        "version": template.version,
        "items": selectors.current_items(template),
        "retired_at": template.retired_at,
    }


@router.get("/checklists", response=list[ChecklistOut], summary="Checklist templates")
def list_checklists(request: AuthenticatedRequest, filters: Query[ChecklistFilters]) -> object:
    return selectors.list_checklists(request.user, include_retired=filters.include_retired)


@router.get("/checklists/{checklist_id}", response=ChecklistOut, summary="A checklist template")
def get_checklist(request: AuthenticatedRequest, checklist_id: UUID) -> object:
    return checklist_out(selectors.find_checklist(request.user, checklist_id))


@router.post("/checklists", response={201: ChecklistOut}, summary="Add a checklist (managers)")
def add_checklist(request: AuthenticatedRequest, payload: ChecklistTemplateIn) -> Status[object]:
    user, data = request.user, payload.dict()
    return Status(201, checklist_out(attempt(lambda: services.add_checklist(user, **data))))


@router.patch(
    "/checklists/{checklist_id}",
    response=ChecklistOut,
    summary="Change a checklist (managers; a new version, with the version read and a reason)",
)
def edit_checklist(
    request: AuthenticatedRequest, checklist_id: UUID, payload: ChecklistChange
) -> object:
    changes = valued_changes(payload)
    user = request.user
    return checklist_out(attempt(lambda: services.edit_checklist(user, checklist_id, **changes)))


@router.post(
    "/checklists/{checklist_id}/retirement",
    response=ChecklistOut,
    summary="Retire a checklist (managers; never deleted)",
)
def retire_checklist(
    request: AuthenticatedRequest, checklist_id: UUID, payload: ChecklistRetirement
) -> object:
    user = request.user
    return checklist_out(
        attempt(lambda: services.retire_checklist(user, checklist_id, **correction(payload)))
    )


@router.post(
    "/cases/{case_id}/checklists",
    response={201: list[TaskOut]},
    summary="Apply a checklist: one task per item, in one transaction (case team)",
)
def apply_checklist(
    request: AuthenticatedRequest, case_id: CaseId, payload: ChecklistApplication
) -> Status[object]:
    user = request.user
    owner = named_user(payload.owner, "owner")
    return Status(
        201,
        attempt(
            lambda: services.apply_checklist(
                user,
                case_id,
                payload.checklist_id,
                owner=owner,
                start_on=payload.start_on,
                confirm_repeat=payload.confirm_repeat,
            )
        ),
    )


# --------------------------------------------------------------------------- linked cases


class CaseLinkIn(Schema):
    linked_case: str = Field(..., max_length=40, description="Reference (or id) of the other case")
    reason: str = Field(..., min_length=1, max_length=2000)


class CaseLinkOut(Schema):
    id: UUID
    case_id: UUID
    case_reference: str
    reason: str
    created_at: datetime


def link_out(link: Any, seen_from: UUID) -> dict[str, Any]:
    other = link.other(seen_from)
    return {
        "id": link.pk,
        "case_id": other.pk,
        "case_reference": other.reference,
        "reason": link.reason,
        "created_at": link.created_at,
    }


@router.get(
    "/cases/{case_id}/links",
    response=list[CaseLinkOut],
    summary="Cases linked to this one (only those you may also see)",
)
def list_case_links(request: AuthenticatedRequest, case_id: CaseId) -> object:
    user = request.user
    case = selectors.find_visible_case(user, case_id)
    linked = selectors.case_links(user, case, declared_purpose(request))
    return [link_out(item.link, case.pk) for item in linked]


@router.post(
    "/cases/{case_id}/links",
    response={201: CaseLinkOut},
    summary="Link this case to another case you may see (case team)",
)
def link_case(
    request: AuthenticatedRequest, case_id: CaseId, payload: CaseLinkIn
) -> Status[object]:
    user = request.user
    link = attempt(
        lambda: services.link_cases(user, case_id, payload.linked_case, reason=payload.reason)
    )
    return Status(201, link_out(link, case_id))


# --------------------------------------------------------------------------- people search


class PersonFoundOut(Schema):
    person_id: UUID
    full_name: str
    dob: date | None
    role: PersonRole
    relationship: Relationship
    case_id: UUID
    case_reference: str


@router.post(
    "/people/search",
    response=list[PersonFoundOut],
    summary="People of every role (principal, family, associates) on cases you may see, by "
    "exact name (and date of birth), sent in the body",
)
def search_people(request: AuthenticatedRequest, payload: CaseSearchIn) -> object:
    if not payload.name.strip():
        raise HttpError(422, "name: enter the person's name")
    user = request.user
    matches = selectors.find_people(user, search_of(payload), declared_purpose(request))
    return [
        {
            "person_id": m.person.pk,
            "full_name": m.person.full_name,
            "dob": m.person.dob,
            "role": m.person.role,
            "relationship": m.person.relationship,
            "case_id": m.case.pk,
            "case_reference": m.case.reference,
        }
        for m in matches
    ]

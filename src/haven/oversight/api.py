"""Oversight endpoints: every capability of the oversight pages. Only oversight roles may call
them (403 otherwise); bad input answers 422 problem+json and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Self
from uuid import UUID

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import field_validator, model_validator

from haven.accounts.models import User
from haven.accounts.types import AuthenticatedRequest
from haven.timelimits import RULES
from haven.ui.apihelpers import (
    ComplaintId,
    ForfeitureId,
    HearingId,
    MeetingId,
    PageOf,
    QueryFilters,
    TribunalId,
    attempt,
    indexable_name,
    page_body,
    uploaded_content,
)
from haven.ui.helpers import attachment
from haven.vault import documents

from . import config, performance, permissions, selectors, services, statistics, workflow
from .models import (
    AppropriateAuthority,
    Category,
    ComplaintStatus,
    ComplaintSubject,
    CorrespondenceMethod,
    Determination,
    Direction,
    ForfeitureGround,
    ForfeitureStatus,
    HearingStatus,
    MeetingKind,
    MemberKind,
    Outcome,
    PanelOutcome,
    PensionScheme,
    Reg4Criterion,
    Reg32Limb,
    ReviewBody,
    ReviewStatus,
    SelectionMethod,
    UpdateMethod,
)

router = Router(tags=["oversight"])


class DeadlineOut(Schema):
    title: str
    due: date
    rule_code: str
    citation: str
    explanation: str
    state: str


class ComplaintSummary(Schema):
    id: UUID
    reference: str
    force_reference: str
    received_on: date
    status: ComplaintStatus
    category: Category
    subject: ComplaintSubject
    against_chief_officer: bool
    against_commissioner: bool
    assignee_id: int | None


class ReviewOut(Schema):
    id: UUID
    assignee_id: int | None
    received_on: date
    forwarded_days: int
    extension_days: int
    extension_reason: str
    due_on: date
    in_time: bool
    status: ReviewStatus
    determined_on: date | None
    reasonable_and_proportionate: bool | None
    recommendations: str
    force_response: str
    force_response_on: date | None


class ComplaintOut(ComplaintSummary):
    appropriate_authority: AppropriateAuthority
    review_body: ReviewBody
    review_body_limb: Reg32Limb
    reg4_criteria: list[Reg4Criterion]
    complainant_name: str
    complainant_contact: str
    narrative: str
    outcome: Outcome | Literal[""]
    outcome_notice_on: date | None
    investigation_started_on: date | None
    iopc_referred_on: date | None
    panel_forwarded_on: date | None
    panel_reference: str
    panel_outcome: PanelOutcome | Literal[""]
    panel_outcome_on: date | None
    closed_on: date | None
    marking: str
    deadlines: list[DeadlineOut]
    reviews: list[ReviewOut]


class ComplaintFilters(QueryFilters):
    reference: str = ""
    status: ComplaintStatus | Literal[""] = ""
    category: Category | Literal[""] = ""
    overdue: bool = False
    chief_officer: bool = False
    sort: str = "-received"
    page: int = Field(1, ge=1)


class ComplaintIn(Schema):
    received_on: date
    category: Category
    complainant_name: str = Field(..., max_length=200)
    complainant_contact: str = Field("", max_length=500)
    narrative: str = Field("", max_length=10000)
    subject: ComplaintSubject | None = Field(
        None,
        description="Whom the complaint is about (the web form's choice): a police officer or "
        "member of staff, the chief officer (this body is the appropriate authority) or the "
        "Commissioner (the police and crime panel handles it, ELPB Regs 2012). Left out: "
        "from against_chief_officer.",
    )
    against_chief_officer: bool = Field(
        False,
        description="Deprecated: send subject. True means subject chief_officer.",
        json_schema_extra={"deprecated": True},
    )
    schedule3: bool = True
    reg4_criteria: list[Reg4Criterion] = []
    review_body: ReviewBody | None = None
    review_body_limb: Reg32Limb = Reg32Limb.NONE
    force_reference: str = Field("", max_length=40)

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        if self.against_chief_officer and self.subject not in (
            None,
            ComplaintSubject.CHIEF_OFFICER,
        ):
            raise ValueError(
                "subject: a complaint is about one person; against_chief_officer contradicts "
                f"subject {self.subject}: send subject alone"
            )
        return self

    def service_data(self) -> dict[str, Any]:
        """The service's arguments: the subject as the two flags it takes."""
        subject = self.subject or (
            ComplaintSubject.CHIEF_OFFICER
            if self.against_chief_officer
            else ComplaintSubject.OFFICER
        )
        return self.dict(exclude={"subject"}) | {
            "against_chief_officer": subject == ComplaintSubject.CHIEF_OFFICER,
            "against_commissioner": subject == ComplaintSubject.COMMISSIONER,
        }


class ActionIn(Schema):
    action: Literal["log", "record", "outside", "refer_iopc", "handled", "close"]
    note: str = Field("", max_length=300)
    on: date | None = None


class OutcomeIn(Schema):
    outcome: Outcome
    notice_on: date


class InvestigationIn(Schema):
    started_on: date


class UpdateIn(Schema):
    sent_on: date
    method: UpdateMethod


class ReviewIn(Schema):
    received_on: date
    forwarded_days: int = Field(0, ge=0, le=365)
    extension_days: int = Field(0, ge=0, le=365)
    extension_reason: str = Field("", max_length=2000)


class ExtendIn(Schema):
    extension_days: int = Field(..., ge=1, le=365)
    reason: str = Field(..., max_length=2000)


class DetermineIn(Schema):
    determined_on: date
    reasonable_and_proportionate: bool
    recommendations: str = Field("", max_length=10000)


class ResponseIn(Schema):
    response: str = Field(..., max_length=10000)
    response_on: date


def _complaint_out(complaint: Any) -> dict[str, Any]:
    computed = {"marking", "deadlines", "reviews"}
    data = {
        name: getattr(complaint, name) for name in ComplaintOut.model_fields if name not in computed
    }
    data["marking"] = complaint.marking
    data["deadlines"] = selectors.complaint_deadlines(complaint)
    data["reviews"] = list(complaint.reviews.all())
    return data


@router.get("/oversight/complaints", response=PageOf[ComplaintSummary], summary="Complaints")
def list_complaints(
    request: AuthenticatedRequest, filters: Query[ComplaintFilters]
) -> dict[str, Any]:
    if "complainant" in request.GET:
        # A name in a URL lands in logs and histories; ninja would ignore it and list all.
        raise HttpError(
            422, "complainant: search by name with POST /api/oversight/complaints/search"
        )
    user = request.user
    search = selectors.ComplaintSearch(**filters.dict(exclude={"page"}))
    page = selectors.list_complaints(user, search, filters.page)
    return page_body(page)


class ComplaintSearchIn(ComplaintFilters):
    """A search by a complainant's exact name, sent as a POST body so that the name never
    appears in a URL or the server's request log."""

    complainant: str = Field("", max_length=200)

    @field_validator("complainant")
    @classmethod
    def _indexable_name(cls, value: str) -> str:
        return indexable_name(value).strip()


@router.post(
    "/oversight/complaints/search",
    response=PageOf[ComplaintSummary],
    summary="Complaints found by the complainant's exact name",
)
def search_complaints(request: AuthenticatedRequest, payload: ComplaintSearchIn) -> dict[str, Any]:
    user = request.user
    search = selectors.ComplaintSearch(**payload.dict(exclude={"page"}))
    page = selectors.list_complaints(user, search, payload.page)
    return page_body(page)


@router.post("/oversight/complaints", response={201: ComplaintOut}, summary="Record a complaint")
def create_complaint(request: AuthenticatedRequest, payload: ComplaintIn) -> Status[dict[str, Any]]:
    user = request.user
    complaint = attempt(lambda: services.create_complaint(user, **payload.service_data()))
    return Status(201, _complaint_out(complaint))


@router.get("/oversight/complaints/{complaint_id}", response=ComplaintOut, summary="One complaint")
def get_complaint(request: AuthenticatedRequest, complaint_id: ComplaintId) -> dict[str, Any]:
    return _complaint_out(selectors.get_complaint(request.user, complaint_id))


def _on_complaint(
    request: AuthenticatedRequest, complaint_id: ComplaintId, action: Callable[[User, Any], Any]
) -> dict[str, Any]:
    user = request.user
    complaint = selectors.find_complaint(user, complaint_id)
    attempt(lambda: action(user, complaint.pk))
    return _complaint_out(selectors.get_complaint(user, complaint.pk))


@router.post(
    "/oversight/complaints/{complaint_id}/actions",
    response=ComplaintOut,
    summary="Log, record, refer, mark handled or close",
)
def complaint_action(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: ActionIn
) -> dict[str, Any]:
    return _on_complaint(
        request,
        complaint_id,
        lambda user, pk: services.act_on_complaint(
            user, pk, payload.action, payload.note, on=payload.on
        ),
    )


@router.post(
    "/oversight/complaints/{complaint_id}/outcome",
    response=ComplaintOut,
    summary="Record the outcome",
)
def complaint_outcome(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: OutcomeIn
) -> dict[str, Any]:
    return _on_complaint(
        request, complaint_id, lambda user, pk: services.record_outcome(user, pk, **payload.dict())
    )


@router.post(
    "/oversight/complaints/{complaint_id}/updates",
    response=ComplaintOut,
    summary="Record a complainant update",
)
def complaint_update(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: UpdateIn
) -> dict[str, Any]:
    return _on_complaint(
        request, complaint_id, lambda user, pk: services.record_update(user, pk, **payload.dict())
    )


@router.post(
    "/oversight/complaints/{complaint_id}/investigation",
    response=ComplaintOut,
    summary="Record that the complaint is being investigated",
)
def complaint_investigation(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: InvestigationIn
) -> dict[str, Any]:
    return _on_complaint(
        request,
        complaint_id,
        lambda user, pk: services.record_investigation(user, pk, **payload.dict()),
    )


@router.post(
    "/oversight/complaints/{complaint_id}/reviews",
    response=ComplaintOut,
    summary="Record a review application",
)
def review_new(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: ReviewIn
) -> dict[str, Any]:
    return _on_complaint(
        request,
        complaint_id,
        lambda user, pk: services.record_review_application(user, pk, **payload.dict()),
    )


# ---------------------------------------------------------------------------------------------
# Complaints about the Commissioner (ELPB Regs 2012): this office's steps, the web page's rules

CommissionerStepName = Literal[
    "log",
    "record",
    "not_record",
    "tell_not_recorded",
    "refer",
    "forward",
    "referred_back",
    "panel_outcome",
    "notify",
    "close",
]
# The facts each step takes beside its date: the required fields of its move.
COMMISSIONER_STEP_FIELDS: dict[str, tuple[str, ...]] = {
    workflow.COMMISSIONER_STEP_OF[move]: rule.required_fields
    for move, rule in workflow.COMMISSIONER_COMPLAINT_TRANSITIONS.items()
}


def _needed_by(field: str) -> str:
    steps = sorted(step for step, fields in COMMISSIONER_STEP_FIELDS.items() if field in fields)
    return f"Required by {' and '.join(steps)}; refused on any other step."


class CommissionerStepIn(Schema):
    """One step of this office on a complaint about the Commissioner, by the web page's rules:
    recording, not recording and referral to the IOPC are the head of oversight's; a step not
    open to you from the complaint's state now is a 422 and changes nothing. GET the same path
    for the steps open to you."""

    step: CommissionerStepName
    on: date = Field(..., description="The date of the step (not in the future)")
    grounds: str = Field("", max_length=300, description=_needed_by("grounds"))
    panel_reference: str = Field("", max_length=40, description=_needed_by("panel_reference"))
    panel_outcome: PanelOutcome | None = Field(None, description=_needed_by("panel_outcome"))

    @model_validator(mode="after")
    def _only_the_steps_facts(self) -> Self:
        """A fact the step does not record is refused, not silently dropped."""
        taken = COMMISSIONER_STEP_FIELDS.get(self.step, ())
        extra = [
            name
            for name in ("grounds", "panel_reference", "panel_outcome")
            if getattr(self, name) not in ("", None) and name not in taken
        ]
        if extra:
            raise ValueError(f"{', '.join(extra)}: not taken by the step {self.step}")
        return self


class CommissionerStepOut(Schema):
    step: CommissionerStepName
    label: str
    citation: str
    required_fields: list[str]


@router.get(
    "/oversight/complaints/{complaint_id}/commissioner-steps",
    response=list[CommissionerStepOut],
    summary="The steps you may take now on a complaint about the Commissioner",
)
def commissioner_steps(request: AuthenticatedRequest, complaint_id: ComplaintId) -> list[Any]:
    user = request.user
    return selectors.commissioner_steps(user, selectors.find_complaint(user, complaint_id))


@router.post(
    "/oversight/complaints/{complaint_id}/commissioner-steps",
    response=ComplaintOut,
    summary="Take a step on a complaint about the Commissioner (ELPB Regs 2012)",
)
def commissioner_step(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: CommissionerStepIn
) -> dict[str, Any]:
    return _on_complaint(
        request,
        complaint_id,
        lambda user, pk: services.take_commissioner_step(
            user,
            pk,
            payload.step,
            on=payload.on,
            grounds=payload.grounds,
            panel_reference=payload.panel_reference,
            panel_outcome=payload.panel_outcome or "",
        ),
    )


def _on_review(
    request: AuthenticatedRequest, review_id: UUID, action: Callable[[User, Any], Any]
) -> dict[str, Any]:
    user = request.user
    review = selectors.find_review(user, review_id)
    attempt(lambda: action(user, review.pk))
    return _complaint_out(selectors.get_complaint(user, review.complaint_id))


@router.post(
    "/oversight/reviews/{review_id}/extension",
    response=ComplaintOut,
    summary="Extend a review time limit",
)
def review_extend(
    request: AuthenticatedRequest, review_id: UUID, payload: ExtendIn
) -> dict[str, Any]:
    return _on_review(
        request, review_id, lambda u, pk: services.extend_review(u, pk, **payload.dict())
    )


@router.post(
    "/oversight/reviews/{review_id}/refusal",
    response=ComplaintOut,
    summary="Refuse an out-of-time application",
)
def review_refuse(request: AuthenticatedRequest, review_id: UUID) -> dict[str, Any]:
    return _on_review(request, review_id, services.refuse_review_out_of_time)


@router.post(
    "/oversight/reviews/{review_id}/determination",
    response=ComplaintOut,
    summary="Determine a review",
)
def review_determine(
    request: AuthenticatedRequest, review_id: UUID, payload: DetermineIn
) -> dict[str, Any]:
    return _on_review(
        request, review_id, lambda u, pk: services.determine_review(u, pk, **payload.dict())
    )


@router.post(
    "/oversight/reviews/{review_id}/response",
    response=ComplaintOut,
    summary="Record the force's response",
)
def review_response(
    request: AuthenticatedRequest, review_id: UUID, payload: ResponseIn
) -> dict[str, Any]:
    return _on_review(
        request, review_id, lambda u, pk: services.record_force_response(u, pk, **payload.dict())
    )


# ---------------------------------------------------------------------------------------------
# Panels and hearings


class InterestOut(Schema):
    subject: str
    description: str
    declared_on: date


class AbsenceOut(Schema):
    starts_on: date
    ends_on: date
    reason: str


class MemberOut(Schema):
    id: UUID
    name: str
    kind: MemberKind
    term_start: date
    term_end: date
    eligible: bool
    qualifications: str
    relevant_qualifications: bool
    rota_position: int
    active: bool
    training_completed_on: date | None
    training_expires_on: date | None
    interests: list[InterestOut]
    absences: list[AbsenceOut]


class MemberIn(Schema):
    name: str = Field(..., max_length=120)
    kind: MemberKind
    term_start: date
    term_end: date
    eligible: bool = True
    qualifications: str = Field("", max_length=200)
    relevant_qualifications: bool = False


class InterestIn(Schema):
    subject: str = Field(..., max_length=120)
    description: str = Field("", max_length=300)
    declared_on: date


class TrainingIn(Schema):
    completed_on: date
    expires_on: date


class AbsenceIn(Schema):
    starts_on: date
    ends_on: date
    reason: str = Field("", max_length=200)


class MemberFilters(QueryFilters):
    kind: MemberKind | Literal[""] = ""


@router.get("/oversight/panel-members", response=list[MemberOut], summary="Panel registers")
def list_members(request: AuthenticatedRequest, filters: Query[MemberFilters]) -> Any:
    return list(selectors.panel_members(request.user, filters.kind))


@router.post("/oversight/panel-members", response={201: MemberOut}, summary="Add to a register")
def add_member(request: AuthenticatedRequest, payload: MemberIn) -> Status[Any]:
    user = request.user
    return Status(201, attempt(lambda: services.add_panel_member(user, **payload.dict())))


@router.post(
    "/oversight/panel-members/{member_id}/interests",
    response=MemberOut,
    summary="Declare an interest",
)
def add_interest(request: AuthenticatedRequest, member_id: UUID, payload: InterestIn) -> Any:
    user = request.user
    member = selectors.get_panel_member(user, member_id)
    attempt(lambda: services.declare_interest(user, member.pk, **payload.dict()))
    return selectors.get_panel_member(user, member.pk)


@router.post(
    "/oversight/panel-members/{member_id}/training",
    response=MemberOut,
    summary="Record training and its expiry",
)
def add_training(request: AuthenticatedRequest, member_id: UUID, payload: TrainingIn) -> Any:
    user = request.user
    member = selectors.get_panel_member(user, member_id)
    attempt(lambda: services.record_training(user, member.pk, **payload.dict()))
    return selectors.get_panel_member(user, member.pk)


@router.post(
    "/oversight/panel-members/{member_id}/unavailability",
    response=MemberOut,
    summary="Record unavailability",
)
def add_absence(request: AuthenticatedRequest, member_id: UUID, payload: AbsenceIn) -> Any:
    user = request.user
    member = selectors.get_panel_member(user, member_id)
    attempt(lambda: services.record_unavailability(user, member.pk, **payload.dict()))
    return selectors.get_panel_member(user, member.pk)


class AppointmentOut(Schema):
    seat: str
    appointee: str
    member_id: UUID | None
    method: SelectionMethod
    rota_position: int | None
    seed: int | None
    explanation: str


class HearingOut(Schema):
    id: UUID
    reference: str
    officer_reference: str
    force: str
    senior_officer: bool
    chief_rank: bool
    referral_date: date
    panel_model: str
    status: HearingStatus
    notice_on: date | None
    response_on: date | None
    hearing_on: date | None
    outcome: str
    outcome_on: date | None
    decision_supplied_on: date | None
    panel: list[AppointmentOut] = Field(alias="appointments")
    deadlines: list[DeadlineOut]

    @staticmethod
    def resolve_deadlines(obj: Any) -> list[Any]:
        return selectors.hearing_deadlines(obj)


class HearingIn(Schema):
    officer_reference: str = Field(..., max_length=60)
    force: str = Field(..., max_length=80)
    referral_date: date
    senior_officer: bool = False
    chief_rank: bool = Field(
        False, description="Chief officer, Met Deputy Commissioner or Assistant Commissioner"
    )


class PanelIn(Schema):
    method: Literal["rota", "random"]
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    nominees: dict[str, str] = Field(
        default_factory=dict,
        description="Names for force-nominated seats: police_member (2020 model) or "
        "chief_officer_chair (2024 model)",
    )


class MemberSeatIn(Schema):
    seat: str
    member_id: UUID
    reason: str = Field(..., max_length=300)


class StageIn(Schema):
    to: HearingStatus
    on: date
    outcome: str = Field("", max_length=200)


class HearingFactIn(Schema):
    fact: Literal["response", "decision_supplied"] = Field(
        ...,
        description="response: the officer's reg 31(2) response was given (witness lists run "
        "from it); decision_supplied: the written decision was supplied (the appeal runs from it)",
    )
    on: date


@router.get("/oversight/hearings", response=list[HearingOut], summary="Misconduct cases")
def list_hearings(request: AuthenticatedRequest) -> Any:
    return list(selectors.hearings(request.user))


@router.post("/oversight/hearings", response={201: HearingOut}, summary="Record a referral")
def create_hearing(request: AuthenticatedRequest, payload: HearingIn) -> Status[Any]:
    user = request.user
    hearing = attempt(lambda: services.create_hearing(user, **payload.dict()))
    return Status(201, selectors.get_hearing(user, hearing.pk))


@router.get("/oversight/hearings/{hearing_id}", response=HearingOut, summary="One misconduct case")
def get_hearing(request: AuthenticatedRequest, hearing_id: HearingId) -> Any:
    return selectors.get_hearing(request.user, hearing_id)


def _on_hearing(
    request: AuthenticatedRequest, hearing_id: HearingId, action: Callable[[User, Any], Any]
) -> Any:
    user = request.user
    hearing = selectors.get_hearing(user, hearing_id)
    attempt(lambda: action(user, hearing.pk))
    return selectors.get_hearing(user, hearing.pk)


@router.post(
    "/oversight/hearings/{hearing_id}/panel",
    response=HearingOut,
    summary="Appoint the panel by rota or random draw",
)
def appoint_panel(request: AuthenticatedRequest, hearing_id: HearingId, payload: PanelIn) -> Any:
    return _on_hearing(
        request,
        hearing_id,
        lambda u, pk: services.appoint_panel(
            u, pk, method=payload.method, seed=payload.seed, nominees=payload.nominees
        ),
    )


@router.post(
    "/oversight/hearings/{hearing_id}/seats",
    response=HearingOut,
    summary="Appoint a named member to a seat",
)
def appoint_member(
    request: AuthenticatedRequest, hearing_id: HearingId, payload: MemberSeatIn
) -> Any:
    return _on_hearing(
        request, hearing_id, lambda u, pk: services.appoint_member(u, pk, **payload.dict())
    )


@router.post(
    "/oversight/hearings/{hearing_id}/stage", response=HearingOut, summary="Move to the next stage"
)
def advance_hearing(request: AuthenticatedRequest, hearing_id: HearingId, payload: StageIn) -> Any:
    return _on_hearing(
        request, hearing_id, lambda u, pk: services.advance_hearing(u, pk, **payload.dict())
    )


@router.post(
    "/oversight/hearings/{hearing_id}/facts",
    response=HearingOut,
    summary="Record the officer's response or the written decision supplied",
)
def hearing_fact(
    request: AuthenticatedRequest, hearing_id: HearingId, payload: HearingFactIn
) -> Any:
    return _on_hearing(
        request, hearing_id, lambda u, pk: services.record_hearing_fact(u, pk, **payload.dict())
    )


# ---------------------------------------------------------------------------------------------
# Tribunals and forfeiture


class TribunalOut(Schema):
    id: UUID
    reference: str
    hearing_id: HearingId | None
    appellant_reference: str
    senior_officer_appellant: bool
    notice_received_on: date
    chair_name: str
    senior_member_name: str
    lay_member_name: str
    lay_member_never_police: bool
    home_office_member_name: str
    hearing_on: date | None
    determination: Determination | Literal[""]
    determined_on: date | None


class TribunalIn(Schema):
    appellant_reference: str = Field(..., max_length=60)
    notice_received_on: date
    hearing_id: HearingId | None = None
    senior_officer_appellant: bool = False
    senior_member_name: str = Field("", max_length=120)
    home_office_member_name: str = Field(
        "", max_length=120, description="Senior officer appeals: Sch 6 para 1(1)(c) member"
    )
    hearing_on: date | None = None


class TribunalDetermineIn(Schema):
    determination: Determination
    determined_on: date


@router.get("/oversight/tribunals", response=list[TribunalOut], summary="Police appeals tribunals")
def list_tribunals(request: AuthenticatedRequest) -> Any:
    return list(selectors.tribunals(request.user))


@router.post("/oversight/tribunals", response={201: TribunalOut}, summary="Record an appeal")
def create_tribunal(request: AuthenticatedRequest, payload: TribunalIn) -> Status[Any]:
    user = request.user
    return Status(201, attempt(lambda: services.create_tribunal(user, **payload.dict())))


@router.post(
    "/oversight/tribunals/{tribunal_id}/determination",
    response=TribunalOut,
    summary="Record the determination",
)
def determine_tribunal(
    request: AuthenticatedRequest, tribunal_id: TribunalId, payload: TribunalDetermineIn
) -> Any:
    user = request.user
    tribunal = selectors.get_tribunal(user, tribunal_id)
    return attempt(lambda: services.determine_tribunal(user, tribunal.pk, **payload.dict()))


class ForfeitureOut(Schema):
    id: UUID
    reference: str
    officer_reference: str
    offence: str
    ground: ForfeitureGround
    scheme: PensionScheme
    conviction_on: date
    status: ForfeitureStatus
    psa_decision_on: date | None
    certificate_issued_on: date | None
    percentage: Decimal | None
    permanent: bool
    gmp_preserved: bool
    duration_months: int | None
    decision_on: date | None
    appeal_lodged_on: date | None
    appeal_outcome: str
    implemented_on: date | None


class ForfeitureIn(Schema):
    officer_reference: str = Field(..., max_length=60)
    offence: str = Field(..., max_length=200)
    ground: ForfeitureGround
    conviction_on: date
    scheme: PensionScheme = PensionScheme.PPS_1987


class ForfeitureStepIn(Schema):
    to: ForfeitureStatus
    on: date
    percentage: Decimal | None = None
    permanent: bool = True
    duration_months: int | None = Field(None, ge=1, le=1200)
    appeal_outcome: str = Field("", max_length=200)
    gmp_preserved: bool = Field(
        False, description="The part forfeited leaves the guaranteed minimum pension in payment"
    )


@router.get(
    "/oversight/forfeitures", response=list[ForfeitureOut], summary="Pension forfeiture cases"
)
def list_forfeitures(request: AuthenticatedRequest) -> Any:
    return list(selectors.forfeitures(request.user))


@router.post("/oversight/forfeitures", response={201: ForfeitureOut}, summary="Record a conviction")
def create_forfeiture(request: AuthenticatedRequest, payload: ForfeitureIn) -> Status[Any]:
    user = request.user
    return Status(201, attempt(lambda: services.create_forfeiture(user, **payload.dict())))


@router.post(
    "/oversight/forfeitures/{forfeiture_id}/steps",
    response=ForfeitureOut,
    summary="Record the next step (percentage at most 65)",
)
def forfeiture_step(
    request: AuthenticatedRequest, forfeiture_id: ForfeitureId, payload: ForfeitureStepIn
) -> Any:
    user = request.user
    case = selectors.get_forfeiture(user, forfeiture_id)
    return attempt(lambda: services.forfeiture_step(user, case.pk, **payload.dict()))


# ---------------------------------------------------------------------------------------------
# Statistics and rules


class TableOut(Schema):
    code: str
    title: str
    threshold: int
    columns: list[str]
    rows: list[dict[str, Any]]
    totals: dict[str, str]
    suppressed: int


class StatisticsFilters(QueryFilters):
    # Only raises the configured minimum (statistics.build); a count threshold above a
    # million would suppress every cell of any table Haven publishes.
    threshold: int | None = Field(None, ge=1, le=1_000_000)


@router.get(
    "/oversight/statistics/{stat_table}",
    response=TableOut,
    summary="A published table (suppressed)",
)
def get_statistics(
    request: AuthenticatedRequest, stat_table: str, filters: Query[StatisticsFilters]
) -> dict[str, Any]:
    user = request.user
    threshold = filters.threshold
    if stat_table not in statistics.TABLES:
        raise HttpError(404, f"No table {stat_table!r}; one of {', '.join(statistics.TABLES)}")
    stat = statistics.export(user, stat_table, "json", threshold)
    columns = list(stat.table.columns)
    column_totals, grand = stat.totals
    return {
        "code": stat.code,
        "title": stat.title,
        "threshold": stat.table.threshold,
        "columns": columns,
        "rows": [
            {"label": label, "cells": dict(zip(columns, cells, strict=True)), "total": total}
            | ({"extra": extra} if stat.extra_column else {})
            for label, cells, total, extra in stat.rows
        ],
        "totals": dict(zip(columns, column_totals, strict=True)) | {"Total": grand},
        "suppressed": stat.suppressed_count,
    }


class RuleOut(Schema):
    code: str
    title: str
    citation: str
    version: int
    valid_from: date
    valid_to: date | None
    detail: str


@router.get(
    "/oversight/rules", response=list[RuleOut], summary="Time limits and rules with citations"
)
def list_rules(request: AuthenticatedRequest) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "code": r.code,
            "title": r.title,
            "citation": r.citation,
            "version": r.version,
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
            "detail": f"{r.amount} {r.kind.replace('_', ' ')}. {r.notes}",
        }
        for versions in RULES.values()
        for r in versions
    ]
    rules += [
        {
            "code": f"panel-{m.code}",
            "title": m.title,
            "citation": m.citation,
            "version": 1,
            "valid_from": m.valid_from,
            "valid_to": m.valid_to,
            "detail": f"{config.RANK_LABELS[m.rank]}: "
            + "; ".join(seat.label for seat in m.seats)
            + ("" if m.confirmed else f". {m.notes}"),
        }
        for m in config.PANEL_MODELS
    ]
    rules += [
        {
            "code": f"{limit.code}-{limit.scheme}",
            "title": limit.title,
            "citation": limit.citation,
            "version": 1,
            "valid_from": limit.valid_from,
            "valid_to": limit.valid_to,
            "detail": f"At most {limit.max_percent}%. {limit.notes}",
        }
        for limit in config.FORFEITURE_LIMITS
    ]
    return rules


# ---------------------------------------------------------------------------------------------
# Ownership, notes and correspondence


class CaseworkerAssignIn(Schema):
    assignee_id: int
    reason: str = Field("", max_length=300, description="Required to reassign")


class CaseworkerCaseloadOut(Schema):
    caseworker_id: int
    username: str
    complaints: int
    reviews: int
    overdue: int


class CaseloadsReportOut(Schema):
    caseworkers: list[CaseworkerCaseloadOut]
    unassigned: int


class MyGovernanceActionOut(Schema):
    id: int
    meeting_id: MeetingId
    meeting_reference: str
    description: str
    due_on: date


class OversightMyWorkOut(Schema):
    complaints: list[ComplaintSummary]
    reviews: list[UUID]
    actions: list[MyGovernanceActionOut]


def _action_out(action: Any) -> dict[str, Any]:
    return {
        "id": action.pk,
        "meeting_id": action.meeting_id,
        "meeting_reference": action.meeting.reference,
        "description": action.description,
        "due_on": action.due_on,
        "owner_id": action.owner_id,
        "status": action.status,
        "completed_on": action.completed_on,
        "decision_id": action.decision_id,
    }


@router.get(
    "/oversight/my-work", response=OversightMyWorkOut, summary="Complaints, reviews, actions: mine"
)
def my_work(request: AuthenticatedRequest) -> dict[str, Any]:
    user = request.user
    return {
        "complaints": list(selectors.my_complaints(user)),
        "reviews": [review.pk for review in selectors.my_reviews(user)],
        "actions": [_action_out(a) for a in selectors.my_actions(user)],
    }


def _manager(user: User) -> None:
    if not permissions.may_assign(user):
        raise HttpError(403, "Only an oversight manager may do this")


@router.get("/oversight/caseloads", response=CaseloadsReportOut, summary="Caseload per caseworker")
def caseloads(request: AuthenticatedRequest) -> dict[str, Any]:
    _manager(request.user)
    lines, unassigned = selectors.caseloads(request.user)
    return {
        "caseworkers": [
            {
                "caseworker_id": line.caseworker.pk,
                "username": line.caseworker.username,
                "complaints": line.complaints,
                "reviews": line.reviews,
                "overdue": line.overdue,
            }
            for line in lines
        ],
        "unassigned": unassigned,
    }


@router.post(
    "/oversight/complaints/{complaint_id}/assignee",
    response=ComplaintOut,
    summary="Assign or reassign the complaint (manager; a reason to reassign)",
)
def assign_complaint(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: CaseworkerAssignIn
) -> dict[str, Any]:
    _manager(request.user)
    return _on_complaint(
        request,
        complaint_id,
        lambda user, pk: services.assign_complaint(user, pk, **payload.dict()),
    )


@router.post(
    "/oversight/reviews/{review_id}/assignee",
    response=ReviewOut,
    summary="Assign or reassign the review application (manager; a reason to reassign)",
)
def assign_review(
    request: AuthenticatedRequest, review_id: UUID, payload: CaseworkerAssignIn
) -> Any:
    user = request.user
    _manager(user)
    review = selectors.find_review(user, review_id)
    return attempt(lambda: services.assign_review(user, review.pk, **payload.dict()))


class ComplaintNoteIn(Schema):
    text: str = Field(..., max_length=5000)
    review_id: UUID | None = None


class ComplaintCorrespondenceIn(ComplaintNoteIn):
    direction: Direction
    on: date
    party: str = Field(..., max_length=200)
    method: CorrespondenceMethod


class ComplaintNoteOut(Schema):
    id: UUID
    review_id: UUID | None
    kind: str
    text: str
    direction: str
    party: str
    method: str
    on: date
    author_id: int | None


@router.get(
    "/oversight/complaints/{complaint_id}/notes",
    response=list[ComplaintNoteOut],
    summary="Notes and correspondence (a consultation entry)",
)
def list_notes(request: AuthenticatedRequest, complaint_id: ComplaintId) -> Any:
    user = request.user
    return selectors.get_notes(user, selectors.find_complaint(user, complaint_id))


@router.post(
    "/oversight/complaints/{complaint_id}/notes",
    response={201: ComplaintNoteOut},
    summary="Add a note",
)
def add_note(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: ComplaintNoteIn
) -> Status[Any]:
    user = request.user
    complaint = selectors.find_complaint(user, complaint_id)
    return Status(201, attempt(lambda: services.add_note(user, complaint.pk, **payload.dict())))


@router.post(
    "/oversight/complaints/{complaint_id}/correspondence",
    response={201: ComplaintNoteOut},
    summary="Record correspondence (direction, date, party, method)",
)
def add_correspondence(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: ComplaintCorrespondenceIn
) -> Status[Any]:
    user = request.user
    complaint = selectors.find_complaint(user, complaint_id)
    return Status(
        201, attempt(lambda: services.record_correspondence(user, complaint.pk, **payload.dict()))
    )


class ComplaintDocumentIn(Schema):
    title: str = Field(..., min_length=1, max_length=300)
    filename: str = Field(..., min_length=1, max_length=200)
    content_base64: str = Field(..., max_length=(documents.DOCUMENT_MAX_BYTES * 4) // 3 + 8)
    review_id: UUID | None = None


class ComplaintDocumentOut(Schema):
    id: UUID
    review_id: UUID | None
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by_id: int


@router.get(
    "/oversight/complaints/{complaint_id}/documents",
    response=list[ComplaintDocumentOut],
    summary="Documents on a complaint and its reviews (a consultation entry)",
)
def list_documents(request: AuthenticatedRequest, complaint_id: ComplaintId) -> Any:
    user = request.user
    return selectors.get_documents(user, selectors.find_complaint(user, complaint_id))


@router.post(
    "/oversight/complaints/{complaint_id}/documents",
    response={201: ComplaintDocumentOut},
    summary="Upload a document (base64 JSON; type checked by content)",
)
def upload_document(
    request: AuthenticatedRequest, complaint_id: ComplaintId, payload: ComplaintDocumentIn
) -> Status[Any]:
    user = request.user
    complaint = selectors.find_complaint(user, complaint_id)  # 404 before reading the content
    data = uploaded_content(payload.content_base64)
    return Status(
        201,
        attempt(
            lambda: services.upload_document(
                user,
                complaint.pk,
                title=payload.title,
                filename=payload.filename,
                data=data,
                review_id=payload.review_id,
            )
        ),
    )


@router.get(
    "/oversight/complaints/{complaint_id}/documents/{document_id}",
    summary="Download a document (a ledgered disclosure)",
)
def download_document(
    request: AuthenticatedRequest, complaint_id: ComplaintId, document_id: UUID
) -> HttpResponse:
    document, data = selectors.read_document(request.user, complaint_id, document_id)
    return attachment(data, str(document.pk), document.content_type)


# ---------------------------------------------------------------------------------------------
# Governance and performance


class GovernanceMeetingIn(Schema):
    kind: MeetingKind
    title: str = Field(..., max_length=200)
    held_on: date


class GovernanceDecisionOut(Schema):
    id: int
    summary: str
    decided_on: date


class GovernanceActionOut(MyGovernanceActionOut):
    owner_id: int
    status: str
    completed_on: date | None
    decision_id: int | None


class GovernanceMeetingOut(Schema):
    id: UUID
    reference: str
    kind: MeetingKind
    title: str
    held_on: date
    decisions: list[GovernanceDecisionOut]
    actions: list[GovernanceActionOut]


class GovernanceDecisionIn(Schema):
    summary: str = Field(..., max_length=500)
    decided_on: date


class GovernanceActionIn(Schema):
    description: str = Field(..., max_length=500)
    owner_id: int
    due_on: date
    decision_id: int | None = None


class GovernanceActionDoneIn(Schema):
    completed_on: date


def _meeting_out(meeting: Any) -> dict[str, Any]:
    return {
        "id": meeting.pk,
        "reference": meeting.reference,
        "kind": meeting.kind,
        "title": meeting.title,
        "held_on": meeting.held_on,
        "decisions": list(meeting.decisions.all()),
        "actions": [_action_out(a) for a in meeting.actions.select_related("meeting")],
    }


@router.get(
    "/oversight/governance/meetings", response=list[GovernanceMeetingOut], summary="Meetings"
)
def list_meetings(request: AuthenticatedRequest) -> Any:
    return [_meeting_out(m) for m in selectors.meetings(request.user)]


@router.post(
    "/oversight/governance/meetings",
    response={201: GovernanceMeetingOut},
    summary="Record a meeting",
)
def create_meeting(request: AuthenticatedRequest, payload: GovernanceMeetingIn) -> Status[Any]:
    user = request.user
    meeting = attempt(lambda: services.create_meeting(user, **payload.dict()))
    return Status(201, _meeting_out(meeting))


@router.get(
    "/oversight/governance/meetings/{meeting_id}",
    response=GovernanceMeetingOut,
    summary="One meeting",
)
def get_meeting(request: AuthenticatedRequest, meeting_id: MeetingId) -> Any:
    return _meeting_out(selectors.find_meeting(request.user, meeting_id))


@router.post(
    "/oversight/governance/meetings/{meeting_id}/decisions",
    response={201: GovernanceMeetingOut},
    summary="Record a decision",
)
def add_decision(
    request: AuthenticatedRequest, meeting_id: MeetingId, payload: GovernanceDecisionIn
) -> Status[Any]:
    user = request.user
    meeting = selectors.find_meeting(user, meeting_id)
    attempt(lambda: services.record_decision(user, meeting.pk, **payload.dict()))
    return Status(201, _meeting_out(meeting))


@router.post(
    "/oversight/governance/meetings/{meeting_id}/actions",
    response={201: GovernanceActionOut},
    summary="Add an action with its owner and due date (the owner is told)",
)
def add_action(
    request: AuthenticatedRequest, meeting_id: MeetingId, payload: GovernanceActionIn
) -> Status[Any]:
    user = request.user
    meeting = selectors.find_meeting(user, meeting_id)
    action = attempt(lambda: services.add_action(user, meeting.pk, **payload.dict()))
    return Status(201, _action_out(action))


@router.post(
    "/oversight/governance/actions/{action_id}/done",
    response=GovernanceActionOut,
    summary="Mark an action as done (its owner or a manager)",
)
def complete_action(
    request: AuthenticatedRequest, action_id: int, payload: GovernanceActionDoneIn
) -> Any:
    user = request.user
    action = selectors.find_action(user, action_id)
    return _action_out(attempt(lambda: services.complete_action(user, action.pk, **payload.dict())))


class OversightPerformanceRowOut(Schema):
    code: str
    area: str
    measure: str
    values: list[str] = Field(..., description="Published values, [c] where suppressed")
    changes: list[str] = Field(..., description="Change from the quarter before ('' first)")


class OversightPerformanceOut(Schema):
    quarters: list[str]
    threshold: int
    rows: list[OversightPerformanceRowOut]


@router.get(
    "/oversight/performance",
    response=OversightPerformanceOut,
    summary="Performance by quarter, suppressed, with quarter-on-quarter change",
)
def get_performance(request: AuthenticatedRequest) -> dict[str, Any]:
    report = performance.build()
    return {
        "quarters": report.labels,
        "threshold": report.threshold,
        "rows": [
            {
                "code": row.measure.code,
                "area": row.measure.area,
                "measure": row.measure.label,
                "values": row.cells,
                "changes": row.trends,
            }
            for row in report.rows
        ],
    }


class TribunalSeatIn(Schema):
    seat: Literal["chair", "lay"]
    member_id: UUID
    never_police: bool = False


@router.post(
    "/oversight/tribunals/{tribunal_id}/seats",
    response=TribunalOut,
    summary="Seat the chair or lay member from the panel-member register",
)
def seat_tribunal(
    request: AuthenticatedRequest, tribunal_id: TribunalId, payload: TribunalSeatIn
) -> Any:
    user = request.user
    tribunal = selectors.get_tribunal(user, tribunal_id)
    return attempt(lambda: services.seat_tribunal_member(user, tribunal.pk, **payload.dict()))

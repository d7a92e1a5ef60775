"""Risk endpoints. Reads of protected content need an `X-Haven-Purpose` header (logged as the
justification); business refusals answer 422 (409 for a stale version), problem+json."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import field_validator

from haven.access.purposes import parse_purpose
from haven.accounts.models import User
from haven.accounts.types import AuthenticatedRequest
from haven.revisions import CorrectionReason, HistoryOut, correction
from haven.ui.apihelpers import (
    PURPOSE_HEADER,
    CaseId,
    QueryFilters,
    attempt,
    declared_purpose,
)
from haven.ui.helpers import attachment

from . import reports, selectors, services
from .models import (
    DecisionLogEntry,
    MeasureStatus,
    NoticeDecision,
    NoticeKind,
    RiskAssessment,
)
from .models import Status as AssessmentStatus

router = Router(tags=["risk"])
Score = int | None
LongText = Field("", max_length=10_000)
# The National Decision Model stages of config.NDM_STAGES (the decision log's choices).
NdmStage = Literal["information", "assessment", "powers", "options", "action", "ethics"]


# --------------------------------------------------------------------------- schemas


class ThreatOut(Schema):
    id: UUID
    ref: str
    source: str
    capability: str
    intent: str
    linked_people: list[str]
    likelihood: int
    impact: int
    residual_likelihood: int
    residual_impact: int
    version: int
    ended_at: datetime | None


class VulnerabilityOut(Schema):
    id: UUID
    description: str
    version: int
    ended_at: datetime | None


class NoticeOut(Schema):
    id: UUID
    kind: NoticeKind
    decision: NoticeDecision
    recipient: str
    served_by: str
    served_at: datetime | None
    withheld_reason: str


class EventOut(Schema):
    action: str
    by: str = Field(alias="by.username")
    at: datetime
    comments: str


class AssessmentOut(Schema):
    id: UUID
    case_id: UUID
    number: int
    status: AssessmentStatus
    is_current: bool
    marking: str
    version: int
    thrive_threat: str
    thrive_harm: str
    thrive_risk: str
    thrive_investigation: str
    thrive_vulnerability: str
    thrive_engagement: str
    likelihood: int
    impact: int
    score: int
    band: str
    residual_likelihood: int
    residual_impact: int
    residual_score: int
    residual_band: str
    scheme_code: str
    scheme_version: int
    threat_to_life: bool
    osman_real_immediate: str
    osman_identified_individual: str
    osman_third_party: str
    social_services_informed: bool
    next_review_on: date | None
    overdue: bool
    review_task_id: UUID | None
    threats: list[ThreatOut]
    vulnerabilities: list[VulnerabilityOut]
    notices: list[NoticeOut]
    events: list[EventOut]


class AssessmentIn(Schema):
    thrive_threat: str | None = Field(None, max_length=10_000)
    thrive_harm: str | None = Field(None, max_length=10_000)
    thrive_risk: str | None = Field(None, max_length=10_000)
    thrive_investigation: str | None = Field(None, max_length=10_000)
    thrive_vulnerability: str | None = Field(None, max_length=10_000)
    thrive_engagement: str | None = Field(None, max_length=10_000)
    likelihood: Score = None
    impact: Score = None
    residual_likelihood: Score = None
    residual_impact: Score = None
    threat_to_life: bool | None = None
    osman_real_immediate: str | None = Field(None, max_length=10_000)
    osman_identified_individual: str | None = Field(None, max_length=10_000)
    osman_third_party: str | None = Field(None, max_length=10_000)
    social_services_informed: bool | None = None


class AssessmentPatch(AssessmentIn):
    version: int


class ThreatIn(Schema):
    source: str = Field(..., max_length=10_000)
    capability: str = LongText
    intent: str = LongText
    linked_people: list[str] = Field(default_factory=list, max_length=50)
    likelihood: Score = None
    impact: Score = None
    residual_likelihood: Score = None
    residual_impact: Score = None


class VulnerabilityIn(Schema):
    description: str = Field(..., max_length=10_000)


class ThreatCorrection(CorrectionReason):
    """A threat's corrected values (a field left out is unchanged), the version and a reason."""

    source: str | None = Field(None, min_length=1, max_length=10_000)
    capability: str | None = Field(None, max_length=10_000)
    intent: str | None = Field(None, max_length=10_000)
    linked_people: list[str] | None = Field(None, max_length=50)
    likelihood: Score = None
    impact: Score = None
    residual_likelihood: Score = None
    residual_impact: Score = None


class VulnerabilityCorrection(CorrectionReason):
    description: str = Field(..., min_length=1, max_length=10_000)


class NoticeIn(Schema):
    kind: NoticeKind
    decision: NoticeDecision
    recipient: str = Field(..., max_length=500)
    served_by: str = Field("", max_length=200)
    served_at: datetime | None = None
    withheld_reason: str = LongText


class CommentsIn(Schema):
    comments: str = LongText


class PortfolioRow(Schema):
    assessment_id: UUID
    case_id: UUID
    reference: str
    number: int
    status: AssessmentStatus
    band: str
    score: int
    residual_band: str
    residual_score: int
    threat_to_life: bool
    next_review_on: date | None
    overdue: bool


class BandCount(Schema):
    band: str
    label: str
    colour: str
    review_days: int
    cases: int


class PortfolioOut(Schema):
    assessed: int
    overdue: int
    due_soon: int
    threat_to_life: int
    scheme: str
    scheme_source: str
    bands: list[BandCount]
    matrix: list[list[int]]  # residual counts, impact 5 first, likelihood 1-5
    page: int
    pages: int
    next_cursor: str | None = Field(
        None, description="pass as `cursor` for the next page; null on the last page"
    )
    results: list[PortfolioRow]


class PortfolioFilters(QueryFilters):
    band: str = Field("", max_length=20)
    show: Literal["all", "overdue", "due_soon", "threat_to_life"] = "all"
    cursor: str = Field(
        "", max_length=120, description="`next_cursor` of the previous page; empty for the first"
    )

    @field_validator("cursor")
    @classmethod
    def _known_cursor(cls, value: str) -> str:
        if value:
            selectors.PortfolioCursor.decode(value)  # ValueError: a 422 naming `cursor`
        return value


class MeasureTypeOut(Schema):
    code: str
    name: str
    description: str
    active: bool
    version: int


class MeasureTypeIn(Schema):
    name: str = Field(..., max_length=100)
    code: str = Field("", max_length=40)
    description: str = Field("", max_length=300)


class MeasureTypeCorrection(CorrectionReason):
    """A catalogue entry's corrected values (a field left out is unchanged)."""

    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=300)


class StatusChangeOut(Schema):
    from_status: MeasureStatus | Literal[""]
    to_status: MeasureStatus
    reason: str
    changed_by: str = Field(alias="changed_by.username")
    changed_at: datetime


class MeasureOut(Schema):
    id: UUID
    measure_type: str = Field(alias="measure_type.code")
    details: str
    controls: list[str]
    owner: str = Field(alias="owner.username")
    status: MeasureStatus
    starts_on: date | None
    ends_on: date | None
    cost_pence: int
    version: int
    history: list[StatusChangeOut] = Field(alias="status_changes")


class MeasureIn(Schema):
    measure_type: str = Field(..., max_length=40)
    owner: str | None = Field(None, max_length=150, description="username; you by default")
    details: str = LongText
    controls: list[str] = Field(default_factory=list, max_length=50)
    starts_on: date | None = None
    ends_on: date | None = None
    cost_pence: int = Field(0, ge=0, le=10**12)
    status: MeasureStatus = MeasureStatus.PROPOSED


class MeasureStatusIn(Schema):
    status: MeasureStatus
    reason: str = Field(..., max_length=10_000)
    version: int


class DecisionLogEntryOut(Schema):
    id: UUID
    sequence: int
    decided_at: datetime
    entered_at: datetime
    decision_maker: str = Field(alias="decision_maker.username")
    author: str = Field(alias="author.username")
    ndm_stage: NdmStage
    decision: str
    rationale: str
    options_rejected: str
    corrects: int | None

    @staticmethod
    def resolve_corrects(obj: DecisionLogEntry) -> int | None:
        return obj.corrects.sequence if obj.corrects else None


class DecisionLogEntryIn(Schema):
    decided_at: datetime
    decision_maker: str | None = Field(None, max_length=150, description="username; you by default")
    ndm_stage: NdmStage
    decision: str = Field(..., max_length=10_000)
    rationale: str = Field(..., max_length=10_000)
    options_rejected: str = LongText
    corrects: UUID | None = None


# --------------------------------------------------------------------------- portfolio


@router.get("/risk/portfolio", response=PortfolioOut, summary="Cases you may see, by risk band")
def portfolio(request: AuthenticatedRequest, filters: Query[PortfolioFilters]) -> dict[str, Any]:
    user = request.user
    after = selectors.PortfolioCursor.decode(filters.cursor) if filters.cursor else None
    view = selectors.portfolio(
        user, declared_purpose(request), band=filters.band, show=filters.show, after=after
    )
    return {
        "assessed": view.assessed,
        "overdue": view.overdue,
        "due_soon": view.due_soon,
        "threat_to_life": view.threat_to_life,
        "scheme": f"{view.matrix.scheme.code} v{view.matrix.scheme.version}",
        "scheme_source": view.matrix.scheme.source,
        "bands": [
            {
                "band": b.code,
                "label": b.label,
                "colour": b.colour,
                "review_days": b.review_days,
                "cases": n,
            }
            for b, n in view.bands
        ],  # fmt: skip
        "matrix": [[cell.count for cell in cells] for _, cells in view.matrix.rows],
        "page": view.page.number,
        "pages": view.page.num_pages,
        "next_cursor": view.page.next_cursor,
        "results": [
            {
                "assessment_id": a.pk,
                "case_id": a.case_id,
                "reference": a.case.reference,
                "number": a.number,
                "status": a.status,
                "band": a.band,
                "score": a.score,
                "residual_band": a.residual_band,
                "residual_score": a.residual_score,
                "threat_to_life": a.threat_to_life,
                "next_review_on": a.next_review_on,
                "overdue": a.overdue,
            }
            for a in view.page.object_list
        ],  # fmt: skip
    }


@router.get("/risk/catalogue", response=list[MeasureTypeOut], summary="Catalogue of measures")
def catalogue(request: AuthenticatedRequest) -> list[Any]:
    return selectors.catalogue(include_inactive=True)


@router.post("/risk/catalogue", response={201: MeasureTypeOut}, summary="Add to the catalogue")
def add_catalogue(request: AuthenticatedRequest, payload: MeasureTypeIn) -> Status[Any]:
    user = request.user
    return Status(201, attempt(lambda: services.add_catalogue_measure(user, **payload.dict())))


@router.patch(
    "/risk/catalogue/{code}",
    response=MeasureTypeOut,
    summary="Correct a catalogue entry (with the version read and a reason)",
)
def correct_catalogue(
    request: AuthenticatedRequest, code: str, payload: MeasureTypeCorrection
) -> Any:
    user = request.user
    return attempt(lambda: services.correct_catalogue_measure(user, code, **correction(payload)))


@router.post(
    "/risk/catalogue/{code}/retirement",
    response=MeasureTypeOut,
    summary="Retire a catalogue entry (no longer offered; old measures keep it)",
)
def retire_catalogue(request: AuthenticatedRequest, code: str, payload: CorrectionReason) -> Any:
    user = request.user
    return attempt(lambda: services.retire_catalogue_measure(user, code, **correction(payload)))


# --------------------------------------------------------------------------- assessments


@router.get(
    "/risk/cases/{risk_case_id}/assessments",
    response=list[AssessmentOut],
    summary="Every version of a case's risk assessment",
)
def list_assessments(request: AuthenticatedRequest, risk_case_id: CaseId) -> list[Any]:
    user = request.user
    return selectors.list_assessments(user, risk_case_id, declared_purpose(request))


def reread(user: User, request: AuthenticatedRequest, assessment_id: UUID) -> RiskAssessment:
    purpose = parse_purpose(request.META.get(PURPOSE_HEADER)) or "risk_review"
    return selectors.get_assessment(user, assessment_id, purpose)


@router.post(
    "/risk/cases/{risk_case_id}/assessments",
    response={201: AssessmentOut},
    summary="Start a new draft version (carries over the latest version's content)",
)
def start_assessment(
    request: AuthenticatedRequest, risk_case_id: CaseId, payload: AssessmentIn
) -> Status[Any]:
    user = request.user
    data = payload.dict(exclude_none=True)
    created = attempt(lambda: services.start_assessment(user, risk_case_id, **data))
    return Status(201, reread(user, request, created.pk))


@router.get("/risk/assessments/{assessment_id}", response=AssessmentOut, summary="One version")
def get_assessment(request: AuthenticatedRequest, assessment_id: UUID) -> Any:
    user = request.user
    return selectors.get_assessment(user, assessment_id, declared_purpose(request))


@router.patch(
    "/risk/assessments/{assessment_id}",
    response=AssessmentOut,
    summary="Change a draft or returned version (approved versions are refused)",
)
def update_assessment(
    request: AuthenticatedRequest, assessment_id: UUID, payload: AssessmentPatch
) -> Any:
    user = request.user
    data = payload.dict(exclude_none=True)
    version = data.pop("version")
    attempt(lambda: services.update_assessment(user, assessment_id, version=version, **data))
    return reread(user, request, assessment_id)


@router.post("/risk/assessments/{assessment_id}/threats", response={201: ThreatOut})
def add_threat(
    request: AuthenticatedRequest, assessment_id: UUID, payload: ThreatIn
) -> Status[Any]:
    user = request.user
    return Status(201, attempt(lambda: services.add_threat(user, assessment_id, **payload.dict())))


@router.post("/risk/assessments/{assessment_id}/vulnerabilities", response={201: VulnerabilityOut})
def add_vulnerability(
    request: AuthenticatedRequest, assessment_id: UUID, payload: VulnerabilityIn
) -> Status[Any]:
    user = request.user
    return Status(
        201, attempt(lambda: services.add_vulnerability(user, assessment_id, **payload.dict()))
    )


# Corrections and endings: only while the assessment may be edited (services refuse otherwise).


@router.patch(
    "/risk/assessments/{assessment_id}/threats/{threat_id}",
    response=ThreatOut,
    summary="Correct a threat (with the version read and a reason)",
)
def correct_threat(
    request: AuthenticatedRequest, assessment_id: UUID, threat_id: UUID, payload: ThreatCorrection
) -> Any:
    user = request.user
    return attempt(
        lambda: services.correct_threat(user, assessment_id, threat_id, **correction(payload))
    )


@router.post(
    "/risk/assessments/{assessment_id}/threats/{threat_id}/ending",
    response=ThreatOut,
    summary="Withdraw a threat (it is kept, shown apart)",
)
def end_threat(
    request: AuthenticatedRequest, assessment_id: UUID, threat_id: UUID, payload: CorrectionReason
) -> Any:
    return end_item(request, assessment_id, "threat", threat_id, payload)


@router.get(
    "/risk/assessments/{assessment_id}/threats/{threat_id}/history",
    response=HistoryOut,
    summary="A threat's earlier versions",
)
def threat_history(request: AuthenticatedRequest, assessment_id: UUID, threat_id: UUID) -> Any:
    return item_history(request, assessment_id, "threat", threat_id)


@router.patch(
    "/risk/assessments/{assessment_id}/vulnerabilities/{vulnerability_id}",
    response=VulnerabilityOut,
    summary="Correct a vulnerability (with the version read and a reason)",
)
def correct_vulnerability(
    request: AuthenticatedRequest,
    assessment_id: UUID,
    vulnerability_id: UUID,
    payload: VulnerabilityCorrection,
) -> Any:
    user = request.user
    return attempt(
        lambda: services.correct_vulnerability(
            user, assessment_id, vulnerability_id, **correction(payload)
        )
    )


@router.post(
    "/risk/assessments/{assessment_id}/vulnerabilities/{vulnerability_id}/ending",
    response=VulnerabilityOut,
    summary="End a vulnerability that no longer applies (it is kept, shown apart)",
)
def end_vulnerability(
    request: AuthenticatedRequest,
    assessment_id: UUID,
    vulnerability_id: UUID,
    payload: CorrectionReason,
) -> Any:
    return end_item(request, assessment_id, "vulnerability", vulnerability_id, payload)


@router.get(
    "/risk/assessments/{assessment_id}/vulnerabilities/{vulnerability_id}/history",
    response=HistoryOut,
    summary="A vulnerability's earlier versions",
)
def vulnerability_history(
    request: AuthenticatedRequest, assessment_id: UUID, vulnerability_id: UUID
) -> Any:
    return item_history(request, assessment_id, "vulnerability", vulnerability_id)


def end_item(
    request: AuthenticatedRequest,
    assessment_id: UUID,
    kind: str,
    item_id: UUID,
    payload: CorrectionReason,
) -> Any:
    user = request.user
    return attempt(
        lambda: services.end_risk_item(user, assessment_id, kind, item_id, **correction(payload))
    )


def item_history(
    request: AuthenticatedRequest, assessment_id: UUID, kind: str, item_id: UUID
) -> Any:
    _, item, revisions = selectors.get_risk_item(
        request.user, assessment_id, kind, item_id, declared_purpose(request), history=True
    )
    return {"version": item.version, "earlier": revisions}


@router.post("/risk/assessments/{assessment_id}/notices", response={201: NoticeOut})
def record_notice(
    request: AuthenticatedRequest, assessment_id: UUID, payload: NoticeIn
) -> Status[Any]:
    user = request.user
    return Status(
        201, attempt(lambda: services.record_notice(user, assessment_id, **payload.dict()))
    )


def step(request: AuthenticatedRequest, assessment_id: UUID, action: Callable[[User], Any]) -> Any:
    user = request.user
    attempt(lambda: action(user))
    return reread(user, request, assessment_id)


@router.post("/risk/assessments/{assessment_id}/submit", response=AssessmentOut)
def submit(request: AuthenticatedRequest, assessment_id: UUID) -> Any:
    return step(request, assessment_id, lambda u: services.submit_assessment(u, assessment_id))


@router.post(
    "/risk/assessments/{assessment_id}/approve",
    response=AssessmentOut,
    summary="Approve (the case's manager, not the author): sets the next review date by band",
)
def approve(request: AuthenticatedRequest, assessment_id: UUID, payload: CommentsIn) -> Any:
    return step(
        request,
        assessment_id,
        lambda u: services.approve_assessment(u, assessment_id, payload.comments),
    )


@router.post("/risk/assessments/{assessment_id}/endorse", response=AssessmentOut)
def endorse(request: AuthenticatedRequest, assessment_id: UUID, payload: CommentsIn) -> Any:
    return step(
        request,
        assessment_id,
        lambda u: services.endorse_assessment(u, assessment_id, payload.comments),
    )


@router.post("/risk/assessments/{assessment_id}/return", response=AssessmentOut)
def return_assessment(
    request: AuthenticatedRequest, assessment_id: UUID, payload: CommentsIn
) -> Any:
    return step(
        request,
        assessment_id,
        lambda u: services.return_assessment(u, assessment_id, payload.comments),
    )


def pdf(name: str, data: bytes) -> HttpResponse:
    return attachment(data, name, "application/pdf")


@router.get(
    "/risk/assessments/{assessment_id}/report.pdf",
    summary="The assessment as PDF (logged as a disclosure)",
)
def assessment_pdf(request: AuthenticatedRequest, assessment_id: UUID) -> HttpResponse:
    user = request.user
    return pdf(*reports.assessment_pdf(user, assessment_id, declared_purpose(request)))


@router.get(
    "/risk/cases/{risk_case_id}/plan.pdf",
    summary="The protection plan as PDF (logged as a disclosure)",
)
def plan_pdf(request: AuthenticatedRequest, risk_case_id: CaseId) -> HttpResponse:
    user = request.user
    return pdf(*reports.plan_pdf(user, risk_case_id, declared_purpose(request)))


# --------------------------------------------------------------------------- measures


def team_user(username: str | None, default: User) -> User | None:
    if not username:
        return default
    return User.objects.filter(username=username, is_active=True).first()


@router.get("/risk/cases/{risk_case_id}/measures", response=list[MeasureOut])
def list_measures(request: AuthenticatedRequest, risk_case_id: CaseId) -> list[Any]:
    user = request.user
    return selectors.list_measures(user, risk_case_id, declared_purpose(request))


@router.post("/risk/cases/{risk_case_id}/measures", response={201: MeasureOut})
def add_measure(
    request: AuthenticatedRequest, risk_case_id: CaseId, payload: MeasureIn
) -> Status[Any]:
    user = request.user
    data = payload.dict()
    owner = team_user(data.pop("owner"), user)
    if owner is None:
        raise HttpError(422, "owner: No such user")
    return Status(
        201, attempt(lambda: services.add_measure(user, risk_case_id, owner=owner, **data))
    )


@router.post("/risk/measures/{measure_id}/status", response=MeasureOut)
def change_measure_status(
    request: AuthenticatedRequest, measure_id: UUID, payload: MeasureStatusIn
) -> Any:
    user = request.user
    return attempt(lambda: services.change_measure_status(user, measure_id, **payload.dict()))


# --------------------------------------------------------------------------- decision log


@router.get("/risk/cases/{risk_case_id}/decision-log", response=list[DecisionLogEntryOut])
def decision_log(request: AuthenticatedRequest, risk_case_id: CaseId) -> list[Any]:
    user = request.user
    return selectors.decision_log(user, risk_case_id, declared_purpose(request))


@router.post(
    "/risk/cases/{risk_case_id}/decision-log",
    response={201: DecisionLogEntryOut},
    summary="Append an entry (a correction references the entry it corrects)",
)
def record_decision(
    request: AuthenticatedRequest, risk_case_id: CaseId, payload: DecisionLogEntryIn
) -> Status[Any]:
    user = request.user
    data = payload.dict()
    maker = team_user(data.pop("decision_maker"), user)
    if maker is None:
        raise HttpError(422, "decision_maker: No such user")
    return Status(
        201,
        attempt(lambda: services.record_decision(user, risk_case_id, decision_maker=maker, **data)),
    )


@router.patch(
    "/risk/decision-log/{risk_entry_id}",
    response={422: dict},
    summary="Refused: entries are append-only; record a correcting entry instead",
)
def change_decision(request: AuthenticatedRequest, risk_entry_id: UUID) -> Any:
    user = request.user
    attempt(lambda: services.refuse_decision_edit(user, risk_entry_id))

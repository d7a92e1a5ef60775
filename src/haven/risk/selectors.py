"""Policy-checked reads of risk records. A record on a case the user may not see answers exactly
like one that does not exist (404); every read of assessment content is a consultation entry in
the ledger with the purpose of access as its justification."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from haven.access import policy
from haven.access.models import TeamRole
from haven.access.visibility import NOTHING, restrict, visible
from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.audit import ledger
from haven.audit.models import Action
from haven.cases.selectors import (
    CaseNotFound,
    find_visible_case,
    record_list_read,
    require_purpose,
)
from haven.concurrency.transactions import service

from . import config
from .models import (
    OPEN,
    DecisionLogEntry,
    MeasureType,
    PortfolioCount,
    ProtectiveMeasure,
    RiskAssessment,
    RiskRevision,
    Status,
    Threat,
    Vulnerability,
)

CASE_OBJECT = "case"
ASSESSMENT_OBJECT = "risk_assessment"
ASSESSMENT_FIELDS = (
    "thrive",
    "likelihood",
    "impact",
    "residual",
    "threat_to_life",
    "osman_elements",
    "threats",
    "vulnerabilities",
    "notices",
)
PORTFOLIO_PAGE_SIZE = 50

if TYPE_CHECKING:
    from haven.cases.selectors import Case  # the type find_visible_case returns


class RiskRecordNotFound(CaseNotFound):
    pass


def assessments_visible_to(user: User) -> QuerySet[RiskAssessment]:
    """Assessments on the cases the user may see, filtered from the assessment side
    (visibility.assessment_rule), never above clearance."""
    return restrict(RiskAssessment, user)


def current_assessments_visible_to(user: User) -> QuerySet[RiskAssessment]:
    """Current assessments the user may see: answered from the covering index
    risk_portfolio_idx (see visibility.assessment_rule)."""
    return restrict(RiskAssessment.objects.filter(is_current=True), user)


def find_assessment(user: User, assessment_id: UUID | str) -> RiskAssessment:
    try:
        return assessments_visible_to(user).select_related("case").get(pk=assessment_id)
    except (RiskAssessment.DoesNotExist, ValueError) as missing:
        raise RiskRecordNotFound("No such risk assessment") from missing


def find_measure(user: User, measure_id: UUID | str) -> ProtectiveMeasure:
    try:
        return (
            restrict(ProtectiveMeasure, user)
            .select_related("case", "measure_type", "owner")
            .get(pk=measure_id)
        )
    except (ProtectiveMeasure.DoesNotExist, ValueError) as missing:
        raise RiskRecordNotFound("No such measure") from missing


def find_entry(user: User, entry_id: UUID | str) -> DecisionLogEntry:
    try:
        return restrict(DecisionLogEntry, user).get(pk=entry_id)
    except (DecisionLogEntry.DoesNotExist, ValueError) as missing:
        raise RiskRecordNotFound("No such decision-log entry") from missing


# Threats and vulnerabilities are corrected and ended on their assessment (services), their
# earlier versions kept in RiskRevision rows (haven.revisions).
RISK_ITEM_MODELS: dict[str, type[Threat] | type[Vulnerability]] = {
    "threat": Threat,
    "vulnerability": Vulnerability,
}
RISK_ITEM_FIELDS = {
    "threat": ("source", "capability", "intent", "linked_people", "scores"),
    "vulnerability": ("description",),
}


def find_risk_item(assessment: RiskAssessment, kind: str, item_id: UUID | str) -> Any:
    """A threat or vulnerability of an assessment already found (and so already visible)."""
    model = RISK_ITEM_MODELS.get(kind)
    if model is None:
        raise RiskRecordNotFound(f"No such {kind}")
    try:
        return model.objects.get(assessment=assessment, pk=item_id)
    except (ObjectDoesNotExist, ValueError) as missing:
        raise RiskRecordNotFound(f"No such {kind}") from missing


@service
def get_risk_item(
    user: User,
    assessment_id: UUID | str,
    kind: str,
    item_id: UUID | str,
    purpose: str | None,
    *,
    history: bool = False,
) -> tuple[RiskAssessment, Any, list[RiskRevision]]:
    """A threat or vulnerability, with every earlier version (newest first) if `history`, for
    anyone who may see the case; logged as one consultation."""
    purpose = require_purpose(purpose)
    assessment = find_assessment(user, assessment_id)
    item = find_risk_item(assessment, kind, item_id)
    revisions = []
    if history:
        revisions = list(
            RiskRevision.objects.filter(
                case_id=assessment.case_id, kind=kind, record_id=item.pk
            ).select_related("changed_by")
        )
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=kind,
        object_id=item.pk,
        case_id=assessment.case_id,
        fields=(*RISK_ITEM_FIELDS[kind], *(("history",) if history else ())),
        justification=purpose,
        details={"versions": len(revisions) + 1} if history else None,
    )
    return assessment, item, revisions


# The approval hand-offs: an assessment in `status` waits for the case team member in
# `team_role` who holds `role` (never its own author: approving your own work is refused).
AWAITING_ACTION: dict[str, tuple[str, str, str]] = {
    Status.SUBMITTED: (TeamRole.MANAGER, Role.PROTECTION_MANAGER, "Approve or return"),
    Status.APPROVED: (TeamRole.AUTHORISING, Role.AUTHORISING_OFFICER, "Endorse or return"),
}


def assessments_awaiting_query(user: User) -> QuerySet[RiskAssessment]:
    from haven.access.models import TeamMembership

    waiting = Q(pk__in=[])
    for status, (team_role, role, _) in AWAITING_ACTION.items():
        if user.has_role(role):
            places = TeamMembership.objects.filter(
                user=user, object_type=CASE_OBJECT, team_role=team_role
            ).values("object_id")
            current = Q(is_current=True) if status == Status.APPROVED else Q()
            waiting |= Q(status=status, case_id__in=places) & current
    return assessments_visible_to(user).filter(waiting).exclude(author=user)


@service
def assessments_awaiting(user: User, purpose: str | None) -> list[RiskAssessment]:
    """Assessments waiting for this user's approval or endorsement, oldest first."""
    purpose = require_purpose(purpose)
    assessments = list(
        assessments_awaiting_query(user)
        .select_related("case", "author")
        .order_by("submitted_at", "number")[:200]
    )
    if assessments:
        ledger.record(
            actor=user,
            action=Action.CONSULTATION,
            object_type=ASSESSMENT_OBJECT,
            object_id="awaiting",
            fields=("status", "number", "author"),
            justification=purpose,
            details={"assessments": [str(a.pk) for a in assessments]},
        )
    return assessments


def awaiting_action(assessment: RiskAssessment) -> str:
    return AWAITING_ACTION.get(assessment.status, ("", "", ""))[2]


def assessment_team(case_id: UUID, team_role: str, role: str) -> list[User]:
    """Active members of the case team in `team_role` who hold `role`."""
    from haven.access import policy

    return [
        m.user
        for m in policy.team_of(CASE_OBJECT, case_id).filter(
            team_role=team_role, user__is_active=True
        )
        if m.user.has_role(role)
    ]


def with_content(assessments: QuerySet[RiskAssessment]) -> QuerySet[RiskAssessment]:
    return assessments.select_related(
        "case", "author", "approved_by", "endorsed_by"
    ).prefetch_related("threats", "vulnerabilities", "notices", "events__by")


@service
def get_assessment(user: User, assessment_id: UUID | str, purpose: str | None) -> RiskAssessment:
    purpose = require_purpose(purpose)
    assessment = find_assessment(user, assessment_id)
    assessment = with_content(RiskAssessment.objects.filter(pk=assessment.pk)).get()
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=ASSESSMENT_OBJECT,
        object_id=assessment.pk,
        case_id=assessment.case_id,
        fields=ASSESSMENT_FIELDS,
        justification=purpose,
        details={"version": assessment.number},
    )
    return assessment


@dataclass
class CaseRisk:
    case: Case
    assessments: list[RiskAssessment]
    current: RiskAssessment | None
    latest: RiskAssessment | None
    measures: list[ProtectiveMeasure]
    decisions: list[DecisionLogEntry]
    threat_refs: list[str] = field(default_factory=list)

    @property
    def open_version(self) -> RiskAssessment | None:
        return next((a for a in self.assessments if a.status in OPEN), None)

    @property
    def package_cost(self) -> str:
        pence = sum(m.cost_pence for m in self.measures if m.status not in ("declined",))
        return f"£{pence // 100:,}.{pence % 100:02d}"


@service
def case_risk(user: User, case_id: UUID | str, purpose: str | None) -> CaseRisk:
    """A case's risk page: versions, the current assessment, measures and the decision log."""
    purpose = require_purpose(purpose)
    case = find_visible_case(user, case_id)
    assessments = list(
        RiskAssessment.objects.filter(case=case).select_related("author", "approved_by")
    )
    current_id = next((a.pk for a in assessments if a.is_current), None)
    latest_id = assessments[0].pk if assessments else None
    shown = {pk for pk in (current_id, latest_id) if pk}
    full = {a.pk: a for a in with_content(RiskAssessment.objects.filter(pk__in=shown))}
    measures = _measures_of(case)
    decisions = _decisions_of(case)
    refs = sorted(
        set(Threat.objects.filter(assessment__case=case).values_list("ref", flat=True)),
        key=lambda ref: int(ref[1:]) if ref[1:].isdigit() else 0,
    )
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=ASSESSMENT_OBJECT,
        object_id="case",
        case_id=case.pk,
        fields=(*ASSESSMENT_FIELDS, "measures", "decision_log"),
        justification=purpose,
        details={
            "assessments": [str(pk) for pk in shown],
            "measures": [str(m.pk) for m in measures],
            "decisions": [d.sequence for d in decisions],
        },
    )
    return CaseRisk(
        case=case,
        assessments=assessments,
        current=full.get(current_id) if current_id else None,
        latest=full.get(latest_id) if latest_id else None,
        measures=measures,
        decisions=decisions,
        threat_refs=refs,
    )


def _measures_of(case: Case) -> list[ProtectiveMeasure]:
    """A case's protective measures with what their pages show (unlogged: callers ledger)."""
    return list(
        ProtectiveMeasure.objects.filter(case=case)
        .select_related("measure_type", "owner")
        .prefetch_related("status_changes__changed_by")
    )


def _decisions_of(case: Case) -> list[DecisionLogEntry]:
    """A case's decision log with its people (unlogged: callers ledger)."""
    return list(
        DecisionLogEntry.objects.filter(case=case).select_related(
            "decision_maker", "author", "corrects"
        )
    )


Row = TypeVar("Row")


def _case_rows(
    user: User,
    case_id: UUID | str,
    purpose: str | None,
    rows_of: Callable[[Case], list[Row]],
    listed: tuple[str, tuple[str, ...], str, Callable[[Row], object]],
) -> list[Row]:
    """A case's rows of one kind, read for the purpose given: one list read in the ledger
    (`listed`: the object type, the fields shown, and the detail naming the rows shown)."""
    purpose = require_purpose(purpose)
    case = find_visible_case(user, case_id)
    rows = rows_of(case)
    object_type, fields, key, ident = listed
    record_list_read(user, case, object_type, fields, purpose, {key: [ident(r) for r in rows]})
    return rows


MEASURES_LISTED = (
    "protective_measure",
    ("measure", "details", "controls", "owner", "status", "dates", "cost"),
    "measures",
    lambda measure: str(measure.pk),
)
DECISIONS_LISTED = (
    "decision_log",
    ("decision", "rationale", "options_rejected"),
    "entries",
    lambda entry: entry.sequence,
)


@service
def list_assessments(user: User, case_id: UUID | str, purpose: str | None) -> list[RiskAssessment]:
    return _case_rows(
        user,
        case_id,
        purpose,
        lambda case: list(with_content(RiskAssessment.objects.filter(case=case))),
        (ASSESSMENT_OBJECT, ASSESSMENT_FIELDS, "assessments", lambda a: str(a.pk)),
    )


@service
def list_measures(user: User, case_id: UUID | str, purpose: str | None) -> list[ProtectiveMeasure]:
    return _case_rows(user, case_id, purpose, _measures_of, MEASURES_LISTED)


@service
def decision_log(user: User, case_id: UUID | str, purpose: str | None) -> list[DecisionLogEntry]:
    return _case_rows(user, case_id, purpose, _decisions_of, DECISIONS_LISTED)


def catalogue(include_inactive: bool = False) -> list[MeasureType]:
    types = MeasureType.objects.all()
    return list(types if include_inactive else types.filter(active=True))


def catalogue_entry(code: str) -> MeasureType:
    try:
        return MeasureType.objects.get(code=code)
    except MeasureType.DoesNotExist as missing:
        raise RiskRecordNotFound("No such measure in the catalogue") from missing


# --------------------------------------------------------------------------- matrix


@dataclass
class Cell:
    likelihood: int
    impact: int
    score: int
    band: str
    colour: str
    items: list[str] = field(default_factory=list)
    count: int = 0


@dataclass
class Matrix:
    rows: list[tuple[int, list[Cell]]]  # impact 5 (top) down to 1, each with likelihood 1-5
    scheme: config.BandScheme

    def place(self, likelihood: int, impact: int, label: str = "", count: int = 1) -> None:
        for row_impact, cells in self.rows:
            if row_impact == impact:
                cell = cells[likelihood - 1]
                cell.count += count
                if label:
                    cell.items.append(label)


def empty_matrix(scheme: config.BandScheme) -> Matrix:
    rows = []
    for impact in reversed(config.SCALE):
        cells = []
        for likelihood in config.SCALE:
            band = scheme.band_for(likelihood * impact)
            cells.append(Cell(likelihood, impact, likelihood * impact, band.code, band.colour))
        rows.append((impact, cells))
    return Matrix(rows, scheme)


def assessment_matrices(assessment: RiskAssessment) -> tuple[Matrix, Matrix]:
    """Heat maps of an assessment's risks before and after controls."""
    scheme = config.scheme(assessment.scheme_code, assessment.scheme_version)
    before, after = empty_matrix(scheme), empty_matrix(scheme)
    before.place(assessment.likelihood, assessment.impact, "Overall")
    after.place(assessment.residual_likelihood, assessment.residual_impact, "Overall")
    for threat in assessment.current_threats:
        before.place(threat.likelihood, threat.impact, threat.ref)
        after.place(threat.residual_likelihood, threat.residual_impact, threat.ref)
    return before, after


# --------------------------------------------------------------------------- portfolio


@dataclass
class Portfolio:
    assessed: int
    bands: list[tuple[config.Band, int]]
    overdue: int
    due_soon: int
    threat_to_life: int
    matrix: Matrix
    page: KeysetPage
    today: date


PORTFOLIO_FILTERS = ("all", "overdue", "due_soon", "threat_to_life")


@dataclass(frozen=True)
class PortfolioCursor:
    """Where a page of the portfolio ends: the last row's review date and case (the list's
    stable order is next review, then case id) and how many rows came before the next page.

    Opaque to clients (urlsafe base64 of ``date~case id~rows before``); ``decode`` refuses
    anything else with ValueError. ``start`` only numbers the page: it selects nothing."""

    next_review_on: date | None
    case_id: UUID
    start: int

    def encode(self) -> str:
        day = self.next_review_on.isoformat() if self.next_review_on else ""
        raw = f"{day}~{self.case_id}~{self.start}".encode("ascii")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str) -> PortfolioCursor:
        try:
            if len(text) > 120:
                raise ValueError(text)
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
            day, case_id, start = raw.split("~")
            cursor = cls(date.fromisoformat(day) if day else None, UUID(case_id), int(start))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise ValueError("not a page of this list: start again from the first page") from None
        if not 0 <= cursor.start <= 10**9:
            raise ValueError("not a page of this list: start again from the first page")
        return cursor


@dataclass
class KeysetPage:
    """One page of a list in a stable order, reached by a cursor rather than an offset, so
    that page 2,000 costs what page 1 costs."""

    object_list: list[Any]
    count: int  # rows in the whole (filtered) list
    start: int  # rows before this page
    size: int
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.start > 0

    @property
    def number(self) -> int:
        return self.start // self.size + 1

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.size))


def _after(
    parts: Sequence[QuerySet[RiskAssessment]],
    page_rows: QuerySet[RiskAssessment],
    cursor: PortfolioCursor | None,
    size: int,
) -> list[Any]:
    """Up to `size` rows of the union of `parts` after `cursor` in the order (next review,
    nulls last; case id), read through `page_rows` (the columns a page shows). Each part gives
    its own first `size` keys (the union's first `size` are among them) by its own plan."""
    order: dict[Any, tuple[Any, ...]] = {}
    for listed in parts:
        for pk, next_review_on, case_id in _keys_after(listed, cursor, size):
            order[pk] = (next_review_on is None, next_review_on, case_id)
    ids = sorted(order, key=order.__getitem__)[:size]
    # The page's rows and their cases only now, by primary key: joining the case to every row
    # before the limit costs a look-up per case in the whole caseload. The ids were found
    # through `parts` (need-to-know applied) in this transaction: filtering them again would
    # only make SQLite walk the whole caseload a second time.
    found = {row.pk: row for row in page_rows.filter(pk__in=ids)} if ids else {}
    return [found[pk] for pk in ids if pk in found]


def _keys_after(
    listed: QuerySet[RiskAssessment], cursor: PortfolioCursor | None, size: int
) -> list[tuple[Any, ...]]:
    """(pk, next review, case id) of up to `size` rows of `listed` after `cursor`, in the
    portfolio's order. Each part is a range on the review index, never an OR the planner
    cannot use: dated rows first, then (only when those run out) the undated ones."""
    keys = listed.values_list("pk", "next_review_on", "case_id")
    found: list[tuple[Any, ...]] = []
    if cursor is None or cursor.next_review_on is not None:
        dated = keys.filter(next_review_on__isnull=False)
        if cursor is not None:
            dated = dated.filter(next_review_on__gte=cursor.next_review_on).exclude(
                next_review_on=cursor.next_review_on, case_id__lte=cursor.case_id
            )
        found = list(dated.order_by("next_review_on", "case_id")[:size])
    if len(found) < size:
        undated = keys.filter(next_review_on__isnull=True)
        if cursor is not None and cursor.next_review_on is None:
            undated = undated.filter(case_id__gt=cursor.case_id)
        found += list(undated.order_by("case_id")[: size - len(found)])
    return found


GROUP_KEY = ("band", "residual_likelihood", "residual_impact", "threat_to_life")


def portfolio_groups(user: User, today: date, soon: date) -> list[dict[str, Any]]:
    """The portfolio's counts: for each (band, residual cell, threat to life) of the current
    assessments the user may see, how many (`n`), how many overdue for review (`n_overdue`)
    and how many due by `soon` (`n_due_soon`).

    Not an aggregate over the caseload (linear in it: 80 ms at 20,000 cases on SQLite): the
    cases reached through the team are counted in advance, per user, by database triggers
    (models.PortfolioCount, a few rows per user whatever their caseload), filtered here by
    clearance; the cases opened only by a live grant, which expires with the clock, are
    counted now (few: grants are time-limited and one case each). Together they are exactly
    the visibility rule (visibility.assessment_rule): tests/risk/test_portfolio_counts.py
    compares the two."""
    if visible(RiskAssessment, user) is NOTHING:
        return []
    clearance = user.effective_clearance
    teamed = (
        PortfolioCount.objects.filter(user=user, classification__lte=clearance)
        .values(*GROUP_KEY)
        .annotate(
            cases=Sum("n"),
            n_overdue=Coalesce(Sum("n", filter=Q(review_on__lt=today)), 0),
            n_due_soon=Coalesce(Sum("n", filter=Q(review_on__gte=today, review_on__lte=soon)), 0),
        )
        .order_by()
    )
    granted = (
        RiskAssessment.objects.filter(
            is_current=True,
            classification__lte=clearance,
            case_id__in=policy.granted_object_ids(user, CASE_OBJECT),
        )
        .exclude(
            Exists(policy.team_object_ids(user, CASE_OBJECT).filter(object_id=OuterRef("case_id")))
        )
        .values(*GROUP_KEY)
        .annotate(
            cases=Count("pk"),
            n_overdue=Count("pk", filter=Q(next_review_on__lt=today)),
            n_due_soon=Count("pk", filter=Q(next_review_on__gte=today, next_review_on__lte=soon)),
        )
        .order_by()
    )
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in [*teamed, *granted]:
        key = tuple(row[name] for name in GROUP_KEY)
        group = groups.setdefault(
            key, {**dict(zip(GROUP_KEY, key, strict=True)), "n": 0, "n_overdue": 0, "n_due_soon": 0}
        )
        group["n"] += row["cases"]
        group["n_overdue"] += row["n_overdue"]
        group["n_due_soon"] += row["n_due_soon"]
    return [group for group in groups.values() if group["n"]]


# From this many cases, SQLite reads a page by walking the review-order index and testing each
# row against the team and grants (a page costs about 50 rows divided by the share of all
# cases the user sees), instead of looking up every case of the caseload and sorting them
# (its plan for an IN over the caseload: linear in it). PostgreSQL chooses by its statistics,
# given the visible set in two parts it can plan as semi-joins (_team_and_granted).
WALK_FROM = 2000


def _team_and_granted(user: User) -> list[QuerySet[RiskAssessment]]:
    """The current assessments the user may see (visibility.assessment_rule), as the two sets
    whose union they are: on the cases of the user's teams, and on those a live grant opens.

    Each is one IN that PostgreSQL turns into a semi-join, so it chooses by its statistics:
    a caseload of most cases walks the review-order index and probes the membership index per
    row (a page: about 50 probes, 2 ms at 100,000 cases), a small one looks its cases up and
    sorts them. The rule's IN over a UNION of the two leaves it only the second, which joined
    and sorted all 100,000 (220 ms). tests/risk/test_portfolio_counts.py holds the union equal
    to the rule."""
    if visible(RiskAssessment, user) is NOTHING:
        return [RiskAssessment.objects.none()]
    cleared = RiskAssessment.objects.filter(
        is_current=True, classification__lte=user.effective_clearance
    )
    return [
        cleared.filter(case_id__in=policy.team_object_ids(user, CASE_OBJECT)),
        cleared.filter(case_id__in=policy.granted_object_ids(user, CASE_OBJECT)),
    ]


def _walkable(user: User) -> QuerySet[RiskAssessment]:
    """The current assessments the user may see (visibility.assessment_rule, for a user who
    uses the protection module), written as correlated EXISTS tests so that SQLite drives
    the query from the order index."""
    team = policy.team_object_ids(user, CASE_OBJECT).filter(object_id=OuterRef("case_id"))
    granted = policy.granted_object_ids(user, CASE_OBJECT).filter(object_id=OuterRef("case_id"))
    return RiskAssessment.objects.filter(
        Exists(team) | Exists(granted),
        is_current=True,
        classification__lte=user.effective_clearance,
    )


@service
def portfolio(
    user: User,
    purpose: str | None,
    *,
    band: str = "",
    show: str = "all",
    after: PortfolioCursor | None = None,
    due_soon_days: int = 14,
) -> Portfolio:
    """Every case the user may see, by band of its current assessment and overdue review.

    A fixed number of queries whatever the size of the portfolio: aggregates for the counts and
    the heat map, and one page of current assessments joined to their cases, found by keyset
    (`after`, the cursor of the previous page) so that a later page costs what the first does."""
    purpose = require_purpose(purpose)
    today = timezone.localdate()
    scheme = config.current_scheme(today)
    soon = today + timedelta(days=due_soon_days)
    groups = portfolio_groups(user, today, soon)
    matrix = empty_matrix(scheme)
    by_band: dict[str, int] = {}
    for row in groups:
        matrix.place(row["residual_likelihood"], row["residual_impact"], count=row["n"])
        by_band[row["band"]] = by_band.get(row["band"], 0) + row["n"]
    totals = {
        "assessed": sum(row["n"] for row in groups),
        "overdue": sum(row["n_overdue"] for row in groups),
        "due_soon": sum(row["n_due_soon"] for row in groups),
        "threat_to_life": sum(row["n"] for row in groups if row["threat_to_life"]),
    }
    shown_rows = [row for row in groups if not band or row["band"] == band]
    if connection.vendor == "postgresql":
        parts = _team_and_granted(user)
    elif totals["assessed"] >= WALK_FROM:
        parts = [_walkable(user)]
    else:
        parts = [current_assessments_visible_to(user)]
    narrowing = Q(band=band) if band else Q()
    count_key = "n"
    if show == "overdue":
        narrowing, count_key = narrowing & Q(next_review_on__lt=today), "n_overdue"
    elif show == "due_soon":
        narrowing &= Q(next_review_on__gte=today, next_review_on__lte=soon)
        count_key = "n_due_soon"
    elif show == "threat_to_life":
        narrowing &= Q(threat_to_life=True)
        shown_rows = [row for row in shown_rows if row["threat_to_life"]]
    listed_count = sum(row[count_key] for row in shown_rows)
    page_rows = RiskAssessment.objects.select_related("case").only(
        "id",
        "number",
        "status",
        "band",
        "residual_band",
        "score",
        "residual_score",
        "threat_to_life",
        "next_review_on",
        "is_current",
        "classification",
        "sensitive",
        "descriptors",
        "case__id",
        "case__reference",
        "case__status",
    )
    rows = _after(
        [part.filter(narrowing) for part in parts], page_rows, after, PORTFOLIO_PAGE_SIZE + 1
    )
    start = after.start if after is not None else 0
    next_cursor = None
    if len(rows) > PORTFOLIO_PAGE_SIZE:
        rows = rows[:PORTFOLIO_PAGE_SIZE]
        last = rows[-1]
        next_cursor = PortfolioCursor(
            last.next_review_on, last.case_id, start + PORTFOLIO_PAGE_SIZE
        ).encode()
    shown = KeysetPage(rows, listed_count, start, PORTFOLIO_PAGE_SIZE, next_cursor)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=ASSESSMENT_OBJECT,
        object_id="portfolio",
        fields=("band", "score", "next_review_on", "threat_to_life"),
        justification=purpose,
        details={"page": shown.number, "cases": [str(a.case_id) for a in shown.object_list]},
    )
    bands = [(b, by_band.get(b.code, 0)) for b in scheme.bands]
    return Portfolio(
        assessed=totals["assessed"],
        bands=bands,
        overdue=totals["overdue"],
        due_soon=totals["due_soon"],
        threat_to_life=totals["threat_to_life"],
        matrix=matrix,
        page=shown,
        today=today,
    )


def band_label(assessment: RiskAssessment, residual: bool = False) -> dict[str, Any]:
    scheme = config.scheme(assessment.scheme_code, assessment.scheme_version)
    found = scheme.band(assessment.residual_band if residual else assessment.band)
    return {"label": found.label if found else "", "colour": found.colour if found else "green"}

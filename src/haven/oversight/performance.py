"""The performance view: complaint, misconduct, tribunal, forfeiture, workforce and governance
figures by quarter, with the change from the quarter before, as published (suppressed) numbers.

Each measure is one row suppressed on its own (``suppression.suppress_table`` on a one-row
table: a small quarter and, where it could be recovered from the year's total, its complement
are hidden). Trends are computed from the *published* values only: a change next to a hidden
count is itself hidden, so nothing suppressed can be recovered by subtraction. Like
``statistics``, every query reads dates, statuses and counts only: no encrypted field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service

from . import config
from .models import (
    STATISTICS,
    ActionStatus,
    Complaint,
    GovernanceAction,
    MisconductHearing,
    PensionForfeiture,
    PoliceAppealTribunal,
    ReviewApplication,
    ReviewStatus,
    WorkforceRecord,
)
from .suppression import SUPPRESSED_MARK, display_count, suppress_table

QUARTERS_SHOWN = 5  # four quarter-on-quarter changes
MONTHS = ("Jan", "Apr", "Jul", "Oct")


@dataclass(frozen=True)
class Quarter:
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        index = (self.start.month - 1) // 3
        last = ("Mar", "Jun", "Sep", "Dec")[index]
        return f"{MONTHS[index]}–{last} {self.start.year}"

    def to_date(self, today: date) -> bool:
        return self.start <= today <= self.end


def quarter_of(day: date) -> Quarter:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    return Quarter(start, _next_start(start) - timedelta(days=1))


def _next_start(start: date) -> date:
    month = start.month + 3
    return date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def quarters(today: date, count: int = QUARTERS_SHOWN) -> list[Quarter]:
    """The last ``count`` calendar quarters, oldest first, the current one (to date) last."""
    current = quarter_of(today)
    found = [current]
    while len(found) < count:
        found.insert(0, quarter_of(found[0].start - timedelta(days=1)))
    return found


Counter = Callable[[list[Quarter]], list[int]]


def _dated(queryset: QuerySet, field: str) -> Counter:  # type: ignore[type-arg]
    def count(spans: list[Quarter]) -> list[int]:
        aggregates = queryset.aggregate(
            **{
                f"q{i}": Count("pk", filter=Q(**{f"{field}__range": (q.start, q.end)}))
                for i, q in enumerate(spans)
            }
        )
        return [int(aggregates[f"q{i}"]) for i in range(len(spans))]

    return count


def _headcount(spans: list[Quarter]) -> list[int]:
    """Workforce at the latest snapshot taken in each quarter (0 when none was imported)."""
    figures = []
    for span in spans:
        latest = (
            WorkforceRecord.objects.filter(snapshot_on__range=(span.start, span.end))
            .order_by("-snapshot_on")
            .values_list("snapshot_on", flat=True)
            .first()
        )
        figures.append(WorkforceRecord.objects.filter(snapshot_on=latest).count() if latest else 0)
    return figures


def _actions_overdue(spans: list[Quarter]) -> list[int]:
    """Governance actions due in the quarter and not done by their due date."""
    late = Q(status=ActionStatus.OPEN) | Q(completed_on__gt=F("due_on"))
    past = GovernanceAction.objects.filter(late, due_on__lt=timezone.localdate())
    return _dated(past, "due_on")(spans)


@dataclass(frozen=True)
class Measure:
    code: str
    area: str
    label: str
    count: Counter
    stock: bool = False  # a level at the quarter's end, not a flow during it


MEASURES: tuple[Measure, ...] = (
    Measure(
        "complaints_received",
        "Complaints",
        "Complaints received",
        _dated(Complaint.objects.all(), "received_on"),
    ),
    Measure(
        "chief_complaints",
        "Complaints",
        "Complaints about the chief officer received",
        _dated(Complaint.objects.filter(against_chief_officer=True), "received_on"),
    ),
    Measure(
        "outcomes",
        "Complaints",
        "Complaint outcomes notified",
        _dated(Complaint.objects.all(), "outcome_notice_on"),
    ),
    Measure(
        "reviews_determined",
        "Complaints",
        "Review applications determined",
        _dated(ReviewApplication.objects.filter(status=ReviewStatus.DETERMINED), "determined_on"),
    ),
    Measure(
        "reviews_upheld",
        "Complaints",
        "Reviews upheld (outcome not reasonable and proportionate)",
        _dated(
            ReviewApplication.objects.filter(
                status=ReviewStatus.DETERMINED, reasonable_and_proportionate=False
            ),
            "determined_on",
        ),
    ),
    Measure(
        "misconduct_referred",
        "Misconduct",
        "Misconduct cases referred",
        _dated(MisconductHearing.objects.all(), "referral_date"),
    ),
    Measure(
        "misconduct_outcomes",
        "Misconduct",
        "Misconduct outcomes",
        _dated(MisconductHearing.objects.all(), "outcome_on"),
    ),
    Measure(
        "tribunal_appeals",
        "Tribunals",
        "Appeals to a police appeals tribunal received",
        _dated(PoliceAppealTribunal.objects.all(), "notice_received_on"),
    ),
    Measure(
        "tribunal_determined",
        "Tribunals",
        "Tribunal appeals determined",
        _dated(PoliceAppealTribunal.objects.all(), "determined_on"),
    ),
    Measure(
        "forfeiture_convictions",
        "Pension forfeiture",
        "Forfeiture cases opened (conviction)",
        _dated(PensionForfeiture.objects.all(), "conviction_on"),
    ),
    Measure(
        "forfeiture_decisions",
        "Pension forfeiture",
        "Forfeiture decisions",
        _dated(PensionForfeiture.objects.all(), "decision_on"),
    ),
    Measure("headcount", "Workforce", "Workforce headcount (latest snapshot)", _headcount, True),
    Measure(
        "actions_late",
        "Governance",
        "Governance actions due and not done on time",
        _actions_overdue,
    ),
)


@dataclass(frozen=True)
class Row:
    measure: Measure
    published: list[int | None]  # None: suppressed
    cells: list[str]
    trends: list[str]  # "" for the first quarter; change from the quarter before

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.cells, self.trends, strict=True))

    @property
    def suppressed(self) -> int:
        return sum(1 for value in self.published if value is None)


@dataclass(frozen=True)
class Performance:
    quarters: list[Quarter]
    rows: list[Row]
    threshold: int
    today: date

    @property
    def labels(self) -> list[str]:
        return [q.label + (" (to date)" if q.to_date(self.today) else "") for q in self.quarters]


def trend(previous: int | None, current: int | None) -> str:
    """The change between two published values; hidden when either is suppressed."""
    if previous is None or current is None:
        return SUPPRESSED_MARK
    change = current - previous
    if change == 0:
        return "no change"
    return f"up {change}" if change > 0 else f"down {-change}"


def build(today: date | None = None, threshold: int | None = None) -> Performance:
    """Every measure for the last QUARTERS_SHOWN quarters, suppressed and with trends.
    ``threshold`` may only raise the configured minimum."""
    today = today or timezone.localdate()
    minimum = config.disclosure_policy().threshold
    threshold = max(minimum, threshold or minimum)
    spans = quarters(today)
    rows = []
    for measure in MEASURES:
        raw = measure.count(spans)
        if measure.stock:
            # A level, not a flow: no secondary suppression over a meaningless sum.
            published: list[int | None] = [
                None if 0 < value < threshold else value for value in raw
            ]
        else:
            table = suppress_table(
                {measure.label: {q.label: v for q, v in zip(spans, raw, strict=True)}},
                threshold=threshold,
            )
            published = [table.cells[measure.label][q.label] for q in spans]
        rows.append(
            Row(
                measure=measure,
                published=published,
                cells=[display_count(value) for value in published],
                trends=[""] + [trend(a, b) for a, b in zip(published, published[1:], strict=False)],
            )
        )
    return Performance(quarters=spans, rows=rows, threshold=threshold, today=today)


def csv_rows(report: Performance) -> tuple[list[str], list[list[str]]]:
    header = ["Area", "Measure"]
    for label in report.labels:
        header += [label, f"{label}: change"]
    lines = []
    for row in report.rows:
        line = [row.measure.area, row.measure.label]
        for cell, change in zip(row.cells, row.trends, strict=True):
            line += [cell, change]
        lines.append(line)
    lines.append(
        [f"[c] = suppressed: counts below {report.threshold}, and cells that would reveal them"]
    )
    return header, lines


@service
def export(user: User, threshold: int | None = None) -> Performance:
    """The performance table for download: a disclosure entry in the ledger."""
    report = build(threshold=threshold)
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type=STATISTICS,
        object_id="performance",
        fields=tuple(m.code for m in MEASURES),
        recipients=[f"download by {user.username}"],
        justification="oversight: holding the chief officer to account",
        details={"format": "csv", "threshold": report.threshold},
    )
    return report

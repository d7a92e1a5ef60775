"""Oversight statistics on pseudonymised data only, published with small-cell suppression.

Every query here reads category, status and date columns with ``values_list``: no encrypted
field is ever loaded or decrypted, and workforce records carry only a keyed pseudonym.
Charts and exports are built from the *suppressed* table, so nothing hidden can leak through
a bar length or a download.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Max
from django.utils import timezone

from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service
from haven.timelimits import add_months, compute_deadline, recurring_due_dates

from . import characteristics, config
from .models import (
    STATISTICS,
    AppropriateAuthority,
    Category,
    ComplainantUpdate,
    Complaint,
    ComplaintStatus,
    Outcome,
    ReviewApplication,
    ReviewStatus,
    WorkforceRecord,
)
from .selectors import OPEN_STATES, UPDATE_STATES
from .suppression import SuppressedTable, display_count, suppress_table

Counts = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    width: int  # 0..CHART_WIDTH, from the published value only
    y: int


@dataclass(frozen=True)
class StatTable:
    code: str
    title: str
    description: str
    row_heading: str
    table: SuppressedTable
    extra_column: str = ""
    extra: Mapping[str, str] | None = None  # e.g. uphold rate per row, from published values

    @property
    def rows(self) -> list[tuple[str, list[str], str, str]]:
        """(row label, published cells, published row total, extra) for templates and CSV."""
        t = self.table
        return [
            (
                row,
                [t.display(t.cells[row][column]) for column in t.columns],
                t.display(t.row_totals[row]),
                (self.extra or {}).get(row, ""),
            )
            for row in t.rows
        ]

    @property
    def totals(self) -> tuple[list[str], str]:
        t = self.table
        return [t.display(t.column_totals[c]) for c in t.columns], t.display(t.grand_total)

    @property
    def suppressed_count(self) -> int:
        return len(self.table.reasons)

    def bars(self) -> list[Bar]:
        t = self.table
        published = [t.row_totals[row] for row in t.rows]
        top = max((v for v in published if v is not None), default=0) or 1
        return [
            Bar(
                label=row,
                text=t.display(value),
                width=0 if value is None else round(CHART_WIDTH * value / top),
                y=index * BAR_PITCH,
            )
            for index, (row, value) in enumerate(zip(t.rows, published, strict=True))
        ]

    @property
    def chart_height(self) -> int:
        return max(len(self.table.rows), 1) * BAR_PITCH


CHART_WIDTH = 300
BAR_PITCH = 28


def _zeros(rows: list[str], columns: list[str]) -> Counts:
    return {row: dict.fromkeys(columns, 0) for row in rows}


def _timeliness(today: date) -> Counts:
    columns = [
        "Outcome within 12 months",
        "Outcome after 12 months",
        "Open, under 12 months",
        "Open, over 12 months",
    ]
    data = list(Complaint.objects.values_list("received_on", "outcome_notice_on"))
    years = sorted({received.year for received, _ in data}) or [today.year]
    counts = _zeros([str(y) for y in years], columns)
    for received, notice in data:
        limit = add_months(received, 12)
        if notice is not None:
            column = columns[0] if notice <= limit else columns[1]
        else:
            column = columns[2] if today <= limit else columns[3]
        counts[str(received.year)][column] += 1
    return counts


def _outcomes(today: date) -> Counts:
    columns = [str(label) for label in Outcome.labels] + ["Not yet decided"]
    counts = _zeros([str(label) for label in Category.labels], columns)
    grouped = (
        Complaint.objects.values_list("category", "outcome").annotate(n=Count("pk")).order_by()
    )
    for category, outcome, n in grouped:
        row = str(Category(category).label)
        counts[row][str(Outcome(outcome).label) if outcome else columns[-1]] += n
    return counts


REVIEW_COLUMNS = ["Reasonable and proportionate", "Not reasonable and proportionate"]


def _reviews(today: date) -> Counts:
    data = list(
        ReviewApplication.objects.filter(status=ReviewStatus.DETERMINED).values_list(
            "determined_on", "reasonable_and_proportionate"
        )
    )
    years = sorted({d.year for d, _ in data if d}) or [today.year]
    counts = _zeros([str(y) for y in years], REVIEW_COLUMNS)
    for determined, reasonable in data:
        if determined is None:
            continue
        counts[str(determined.year)][REVIEW_COLUMNS[0 if reasonable else 1]] += 1
    return counts


def _uphold_rates(table: SuppressedTable) -> dict[str, str]:
    """Share not reasonable and proportionate ("upheld"), from published values only."""
    rates = {}
    for row in table.rows:
        upheld, total = table.cells[row][REVIEW_COLUMNS[1]], table.row_totals[row]
        rates[row] = "[c]" if upheld is None or not total else f"{100 * upheld / total:.0f}%"
    return rates


OVERDUE_ROWS = [
    "Complainant update overdue",
    "12-month investigation report due",
    "Outcome notification overdue",
    "Review application awaiting determination",
]


def _overdue(today: date) -> Counts:
    # The PCMR 2020 clocks: not for complaints about the Commissioner (ELPB Regs 2012).
    columns = [
        str(authority.label)
        for authority in AppropriateAuthority
        if authority != AppropriateAuthority.POLICE_AND_CRIME_PANEL
    ]
    counts = _zeros(OVERDUE_ROWS, columns)
    last_updates: dict[object, date] = {}
    for complaint_id, sent_on in ComplainantUpdate.objects.values_list("complaint_id", "sent_on"):
        last_updates[complaint_id] = max(sent_on, last_updates.get(complaint_id, sent_on))
    rows = Complaint.objects.filter(
        status__in=UPDATE_STATES, against_commissioner=False
    ).values_list(
        "pk",
        "status",
        "received_on",
        "handled_on",
        "appropriate_authority",
        "investigation_started_on",
    )
    for pk, status, received, handled, authority, investigated in rows:
        column = str(AppropriateAuthority(authority).label)
        start = max(last_updates.get(pk, received), received)
        if today > compute_deadline("complaint_progress_update", start).due:
            counts[OVERDUE_ROWS[0]][column] += 1
        if (
            status in OPEN_STATES
            and status != ComplaintStatus.OUTSIDE_SCH3
            and investigated is not None
            and recurring_due_dates("overdue_investigation_report", received, today)
        ):
            counts[OVERDUE_ROWS[1]][column] += 1
        if status == ComplaintStatus.HANDLED and handled is not None:
            if today > compute_deadline("complaint_outcome_notification", handled).due:
                counts[OVERDUE_ROWS[2]][column] += 1
    for authority in ReviewApplication.objects.filter(status=ReviewStatus.RECEIVED).values_list(
        "complaint__appropriate_authority", flat=True
    ):
        counts[OVERDUE_ROWS[3]][str(AppropriateAuthority(authority).label)] += 1
    return counts


def _workforce(code: str) -> Callable[[date], Counts]:
    characteristic = characteristics.BY_CODE[code]

    def count(today: date) -> Counts:
        grades = dict(characteristics.GRADES)
        counts = _zeros([label for _, label in characteristic.values], list(grades.values()))
        latest = WorkforceRecord.objects.aggregate(latest=Max("snapshot_on"))["latest"]
        if latest is None:
            return counts
        tally = (
            WorkforceRecord.objects.filter(snapshot_on=latest)
            .values_list(code, "grade")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for value, grade, n in tally:
            counts[characteristic.label_for(value)][grades.get(grade, grade)] += n
        return counts

    return count


@dataclass(frozen=True)
class TableSpec:
    code: str
    title: str
    description: str
    row_heading: str
    count: Callable[[date], Counts]


TABLES: dict[str, TableSpec] = {
    spec.code: spec
    for spec in [
        TableSpec(
            "timeliness",
            "Complaint timeliness",
            "Complaints by year received: outcome notified within 12 months of receipt or not, "
            "and open complaints by age (PCMR reg 13).",
            "Year received",
            _timeliness,
        ),
        TableSpec(
            "outcomes",
            "Complaint outcomes by category",
            "Every complaint by allegation category and outcome.",
            "Category",
            _outcomes,
        ),
        TableSpec(
            "reviews",
            "Review determinations and uphold rate",
            "Determined review applications by year; 'upheld' means the outcome was found not "
            "reasonable and proportionate.",
            "Year determined",
            _reviews,
        ),
        TableSpec(
            "overdue",
            "Overdue items",
            "Open items past a statutory time limit today, by appropriate authority.",
            "Item",
            _overdue,
        ),
        *[
            TableSpec(
                f"workforce-{c.code}",
                f"Workforce by {c.label.lower()}",
                f"Latest workforce snapshot by {c.label.lower()} and grade "
                "(Equality Act 2010 s.4).",
                c.label,
                _workforce(c.code),
            )
            for c in characteristics.CHARACTERISTICS
        ],
    ]
}


def build(code: str, threshold: int | None = None) -> StatTable:
    """One published table. `threshold` may only raise the configured minimum."""
    spec = TABLES[code]
    minimum = config.disclosure_policy().threshold
    threshold = max(minimum, threshold or minimum)
    published = suppress_table(spec.count(timezone.localdate()), threshold=threshold)
    extra = _uphold_rates(published) if code == "reviews" else None
    return StatTable(
        code=code,
        title=spec.title,
        description=spec.description,
        row_heading=spec.row_heading,
        table=published,
        extra_column="Uphold rate" if extra else "",
        extra=extra,
    )


def csv_rows(stat: StatTable) -> list[list[str]]:
    t = stat.table
    header = [stat.row_heading, *t.columns, "Total"] + (
        [stat.extra_column] if stat.extra_column else []
    )
    lines = [header]
    for label, cells, total, extra in stat.rows:
        lines.append([label, *cells, total] + ([extra] if stat.extra_column else []))
    column_totals, grand = stat.totals
    lines.append(["Total", *column_totals, grand] + ([""] if stat.extra_column else []))
    lines.append(
        [f"[c] = suppressed: counts below {t.threshold}, and cells that would reveal them"]
    )
    return lines


@service
def export(user: User, code: str, fmt: str, threshold: int | None = None) -> StatTable:
    """A table for download: a disclosure entry in the ledger. The module gate of the view or
    operation has already admitted ``user``."""
    stat = build(code, threshold)
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type=STATISTICS,
        object_id=code,
        fields=(code,),
        recipients=[f"download by {user.username}"],
        justification="oversight: published statistics",
        details={"format": fmt, "threshold": stat.table.threshold},
    )
    return stat


__all__ = ["TABLES", "StatTable", "build", "csv_rows", "display_count", "export"]

"""Import complaint and workforce records from a force's CSV return.

Every row is checked first; the report lists every bad row as (line, field, reason). If any row
is bad, or on a dry run, nothing is imported. A cell that a spreadsheet would read as a formula
(starting with = + - @, a tab or a carriage return) is refused, unless it is a signed number or a
telephone number (csvfiles.formula_problem). Workforce staff numbers are replaced by a keyed
pseudonym before anything is stored.

Complaints: force_reference, received_on, category, schedule3, against_chief_officer,
reg4_criteria (codes separated by ";"), complainant_name, complainant_contact, narrative.
Workforce: staff_number, snapshot_on, force, grade, then the nine characteristics
(age_band, disability, gender_reassignment, marriage_civil_partnership, pregnancy_maternity,
race, religion_belief, sex, sexual_orientation).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.utils import timezone

from haven import csvfiles
from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service_transaction
from haven.vault.keyring import blind_index_key

from . import characteristics, services
from .models import WORKFORCE, Category, Reg4Criterion, WorkforceRecord

Kind = Literal["complaints", "workforce"]
MAX_ROWS = 100_000
COMPLAINT_COLUMNS = (
    "force_reference",
    "received_on",
    "category",
    "schedule3",
    "against_chief_officer",
    "reg4_criteria",
    "complainant_name",
    "complainant_contact",
    "narrative",
)
COMPLAINT_REQUIRED = ("received_on", "category", "schedule3", "complainant_name")
WORKFORCE_COLUMNS = (
    "staff_number",
    "snapshot_on",
    "force",
    "grade",
    *(c.code for c in characteristics.CHARACTERISTICS),
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "complaints": COMPLAINT_COLUMNS,
    "workforce": WORKFORCE_COLUMNS,
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "complaints": COMPLAINT_REQUIRED,
    "workforce": WORKFORCE_COLUMNS,
}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class RowProblem(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def parse_date(field_name: str, value: str) -> date:
    text = value.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RowProblem(field_name, f"{text!r} is not a real date (use YYYY-MM-DD or DD/MM/YYYY)")


def parse_bool(field_name: str, value: str) -> bool:
    text = value.strip().lower()
    if text in YES:
        return True
    if text in NO or text == "":
        return False
    raise RowProblem(field_name, f"{value!r} is not yes or no")


def pseudonym(staff_number: str) -> str:
    """Keyed pseudonym of a staff number: the same person maps to the same value, irreversibly."""
    message = b"oversight-workforce\x00" + staff_number.strip().upper().encode()
    return hmac.new(blind_index_key(), message, hashlib.sha256).hexdigest()[:32]


def _complaint_row(row: dict[str, str], today: date) -> dict[str, Any]:
    received = parse_date("received_on", row["received_on"])
    if received > today:
        raise RowProblem("received_on", "is in the future")
    category = row["category"].strip()
    if category not in Category.values:
        raise RowProblem("category", f"{category!r} is not one of {', '.join(Category.values)}")
    criteria = [c.strip() for c in (row.get("reg4_criteria") or "").split(";") if c.strip()]
    unknown = [c for c in criteria if c not in Reg4Criterion.values]
    if unknown:
        raise RowProblem("reg4_criteria", f"unknown criteria {', '.join(unknown)}")
    name = row["complainant_name"].strip()
    if not name:
        raise RowProblem("complainant_name", "is empty")
    schedule3 = parse_bool("schedule3", row["schedule3"])
    if criteria and not schedule3:
        raise RowProblem("schedule3", "a complaint meeting a reg 4 criterion must be recorded")
    return {
        "received_on": received,
        "category": category,
        "complainant_name": name,
        "complainant_contact": row.get("complainant_contact") or "",
        "narrative": row.get("narrative") or "",
        "against_chief_officer": parse_bool(
            "against_chief_officer", row.get("against_chief_officer") or ""
        ),
        "schedule3": schedule3,
        "reg4_criteria": criteria,
        "force_reference": (row.get("force_reference") or "").strip(),
    }


def _workforce_row(row: dict[str, str], today: date) -> dict[str, Any]:
    staff = row["staff_number"].strip()
    if not staff:
        raise RowProblem("staff_number", "is empty")
    snapshot = parse_date("snapshot_on", row["snapshot_on"])
    if snapshot > today:
        raise RowProblem("snapshot_on", "is in the future")
    if not row["force"].strip():
        raise RowProblem("force", "is empty")
    grade = row["grade"].strip()
    if grade not in characteristics.GRADE_CODES:
        raise RowProblem(
            "grade", f"{grade!r} is not one of {', '.join(characteristics.GRADE_CODES)}"
        )
    values = {}
    for characteristic in characteristics.CHARACTERISTICS:
        value = row[characteristic.code].strip()
        if value not in characteristic.codes:
            raise RowProblem(
                characteristic.code,
                f"{value!r} is not one of {', '.join(characteristic.codes)}",
            )
        values[characteristic.code] = value
    return {
        "pseudonym": pseudonym(staff),
        "snapshot_on": snapshot,
        "force": row["force"].strip(),
        "grade": grade,
        **values,
    }


PARSERS: dict[str, Callable[[dict[str, str], date], dict[str, Any]]] = {
    "complaints": _complaint_row,
    "workforce": _workforce_row,
}


def check(kind: str, text: str) -> tuple[ImportReport, list[dict[str, Any]]]:
    """Parse and validate every row; (report, clean rows). Line 1 is the header."""
    if kind not in PARSERS:
        raise ValueError(f"unknown import kind {kind!r}; use complaints or workforce")
    report = ImportReport(kind=kind)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [name for name in REQUIRED[kind] if name not in header]
    if not header:
        report.errors.append(RowError(1, "header", "the file is empty"))
    elif missing:
        report.errors.append(RowError(1, "header", f"missing columns: {', '.join(missing)}"))
    if report.errors:
        return report, []
    today = timezone.localdate()
    clean: list[dict[str, Any]] = []
    seen: dict[tuple[str, date], int] = {}
    line = 1
    for row in reader:
        line = reader.line_num
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append(RowError(line, "file", f"more than {MAX_ROWS} rows"))
            break
        if None in row:
            report.errors.append(RowError(line, "row", "more values than columns"))
            continue
        padded = {name: (row.get(name) or "") for name in COLUMNS[kind]}
        formulas = [
            RowError(line, name, problem)
            for name, value in padded.items()
            if (problem := csvfiles.formula_problem(value))
        ]
        if formulas:
            report.errors.extend(formulas)
            continue
        try:
            parsed = PARSERS[kind](padded, today)
        except RowProblem as problem:
            report.errors.append(RowError(line, problem.field, problem.reason))
            continue
        if kind == "workforce":
            key = (parsed["pseudonym"], parsed["snapshot_on"])
            if key in seen:
                report.errors.append(
                    RowError(line, "staff_number", f"repeats line {seen[key]} for this snapshot")
                )
                continue
            seen[key] = line
        parsed["_line"] = line
        clean.append(parsed)
    if kind == "workforce" and clean:
        _check_existing_workforce(clean, report)
    return report, clean


def _check_existing_workforce(clean: list[dict[str, Any]], report: ImportReport) -> None:
    snapshots = {row["snapshot_on"] for row in clean}
    existing = set(
        WorkforceRecord.objects.filter(snapshot_on__in=snapshots).values_list(
            "pseudonym", "snapshot_on"
        )
    )
    for row in clean:
        if (row["pseudonym"], row["snapshot_on"]) in existing:
            report.errors.append(
                RowError(row["_line"], "staff_number", "already imported for this snapshot")
            )


def run(user: User | None, kind: str, text: str, *, dry_run: bool = False) -> ImportReport:
    """Check every row, then import all of them in one transaction, or none."""
    report, clean = check(kind, text)
    report.dry_run = dry_run
    if not report.ok or dry_run:
        return report
    try:
        with service_transaction():
            if kind == "complaints":
                for row in clean:
                    line = row.pop("_line")
                    try:
                        services.create_complaint(user, **row)
                    except ValidationError as error:
                        problems = (
                            error.message_dict.items()
                            if hasattr(error, "error_dict")
                            else [("row", error.messages)]
                        )
                        for name, messages in problems:
                            report.errors.append(RowError(line, name, "; ".join(messages)))
                if report.errors:
                    raise _Rollback
            else:
                WorkforceRecord.objects.bulk_create(
                    WorkforceRecord(**{k: v for k, v in row.items() if k != "_line"})
                    for row in clean
                )
                ledger.record(
                    actor=user,
                    action=Action.COLLECTION,
                    object_type=WORKFORCE,
                    object_id="import",
                    fields=WORKFORCE_COLUMNS[1:],
                    details={"rows": len(clean)},
                )
    except _Rollback:
        return report
    report.imported = len(clean)
    return report


class _Rollback(Exception):
    pass

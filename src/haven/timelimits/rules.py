"""Statutory time limits as versioned data, and deadline arithmetic over them.

Every limit carries its citation and the dates it is in force, so a deadline is always computed
with the version of the rule in force when its period started, and can explain itself.

Counting conventions (worked examples are in tests/timelimits/test_deadlines.py):

* ``starts="day_after"``: day 1 is the day after the start event. "28 days starting with the day
  after" a notice given on 1 Jan: day 1 is 2 Jan, day 28 is 29 Jan, so the deadline is 29 Jan
  (= notice date + 28). ``starts="same_day"``: day 1 is the start date itself.
* Calendar-day, week and month periods do not roll forward when they end on a weekend or
  holiday: the legislation says "within", and none of these rules provides for roll-over.
* Months are calendar months (Interpretation Act 1978 Sch 1) counted by the corresponding-date
  rule; where the target month has no corresponding date the period ends on that month's last
  day (31 Aug + 6 months = 28 Feb, or 29 Feb in a leap year). Recurring month dates are always
  counted from the original start, so a clamped date never drifts later dates (31 Aug -> 28 Feb
  -> 31 Aug, not 28 Aug).
* Paused days and extension days are in the rule's own unit for working-day rules, otherwise in
  calendar days, and are added after the base period.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Literal

from haven.timelimits.calendar import Jurisdiction, add_working_days

Kind = Literal["calendar_days", "working_days", "weeks", "months", "hours"]
Starts = Literal["day_after", "same_day"]

_ONE_DAY = timedelta(days=1)
_HOURS_PER_DAY = 24


@dataclass(frozen=True, kw_only=True)
class TimeLimitRule:
    """One version of one statutory time limit.

    A rule states only what differs from the usual case: a first version (`version=1`), still
    in force (`valid_to=None`), counted from the day after the start event (`starts`).
    `valid_to` is the last day this version is in force (inclusive); None means still in force.
    `repeat_every` (in the same unit as `amount`) marks a recurring duty such as "then every
    4 weeks". `confirmed=False` flags a figure not yet checked against the primary text.
    """

    code: str
    title: str
    citation: str
    kind: Kind
    amount: int
    valid_from: date
    notes: str
    starts: Starts = "day_after"
    version: int = 1
    valid_to: date | None = None
    repeat_every: int | None = None
    confirmed: bool = True

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError(f"{self.code}: amount must be positive")
        if self.repeat_every is not None and self.repeat_every <= 0:
            raise ValueError(f"{self.code}: repeat_every must be positive")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"{self.code}: valid_to is before valid_from")
        if self.kind == "months" and self.starts == "same_day":
            # "A month starting with 31 Jan" has no settled end date; no rule needs it.
            raise ValueError(f"{self.code}: month periods must start the day after")

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


_PCMR_IN_FORCE = date(2020, 2, 1)  # S.I. 2020/2, 2020/4 and 2020/1 all commenced 1.2.2020
_DPA_2018_IN_FORCE = date(2018, 5, 25)
_PCMR_AMENDMENT_NOTE = "S.I. 2025/558 amends from 28.5.2025; content not yet analysed."

_RULE_DEFINITIONS: tuple[TimeLimitRule, ...] = (
    TimeLimitRule(
        code="complaint_review_application",
        title="Application for review of a complaint outcome",
        citation="PCMR 2020 reg 29(2)",
        kind="calendar_days",
        amount=28,
        valid_from=_PCMR_IN_FORCE,
        notes=(
            "28 days starting with the day after the reg 33(2)(a) notice. Time spent forwarding "
            "a misdirected application is excluded (reg 29(3)): record it as paused days. "
            "Special-circumstances extension presumed as reg 29(4)-(5) [U]. " + _PCMR_AMENDMENT_NOTE
        ),
    ),
    TimeLimitRule(
        code="complaint_progress_update",
        title="Progress update to the complainant",
        citation="PCMR 2020 reg 34",
        kind="weeks",
        amount=4,
        repeat_every=4,
        valid_from=_PCMR_IN_FORCE,
        notes="First update within 4 weeks of the start, then at least every 4 weeks.",
    ),
    TimeLimitRule(
        code="complaint_outcome_notification",
        title="Notification of the complaint outcome",
        citation="PCMR 2020 reg 34",
        kind="working_days",
        amount=5,
        valid_from=_PCMR_IN_FORCE,
        notes="In writing unless the complaint was oral and handled outside Sch 3.",
    ),
    TimeLimitRule(
        code="overdue_investigation_report",
        title="Report on a complaint investigation not completed",
        citation="PCMR 2020 reg 13",
        kind="months",
        amount=12,
        repeat_every=6,
        valid_from=_PCMR_IN_FORCE,
        notes=(
            "At 12 months from the complaint or awareness date, then every 6 months; to the "
            "local policing body (unless prejudicial) and the IOPC."
        ),
    ),
    TimeLimitRule(
        code="conduct_overdue_investigation_report",
        title="Report on a conduct investigation not completed",
        citation="Conduct Regs 2020 reg 19",
        kind="months",
        amount=12,
        repeat_every=6,
        valid_from=_PCMR_IN_FORCE,
        notes="Parallel to PCMR reg 13; reported to the local policing body only.",
    ),
    TimeLimitRule(
        code="conduct_response",
        title="Officer's response to the reg 30 documents",
        citation="Conduct Regs 2020 reg 31(1)",
        kind="working_days",
        amount=15,
        valid_from=_PCMR_IN_FORCE,
        notes="Extendable for exceptional circumstances: record an extension with reason.",
    ),
    TimeLimitRule(
        code="conduct_witness_list",
        title="Officer's list of proposed witnesses",
        citation="Conduct Regs 2020 reg 31(4)",
        kind="working_days",
        amount=3,
        valid_from=_PCMR_IN_FORCE,
        notes=(
            "Before the end of 3 working days beginning with the first working day after the "
            "date on which the officer actually complied with reg 31(2) (not the day the "
            "response was due); binds the appropriate authority and the officer alike: each "
            "supplies the other a list of proposed witnesses or notice that there are none."
        ),
    ),
    TimeLimitRule(
        code="pat_respondent_papers",
        title="Respondent's papers to the Police Appeals Tribunal",
        citation="PAT Rules 2020 r 13",
        kind="working_days",
        amount=15,
        valid_from=_PCMR_IN_FORCE,
        notes="Counted from receipt of the notice of appeal sent by the local policing body.",
    ),
    TimeLimitRule(
        code="pat_appeal_notice",
        title="Appellant's notice of appeal to the Police Appeals Tribunal",
        citation="PAT Rules 2020 (rule not identified)",
        kind="working_days",
        amount=10,
        valid_from=_PCMR_IN_FORCE,
        notes=(
            "UNCONFIRMED: recalled as 10 working days; check the PAT Rules 2020 before use. "
            "Counted from the day the appellant is supplied with the written decision, not from "
            "the hearing: the rule's wording on its start was not retrieved either."
        ),
        confirmed=False,
    ),
    TimeLimitRule(
        code="ico_breach_notification",
        title="Notify the ICO of a personal data breach",
        citation="DPA 2018 s.67",
        kind="hours",
        amount=72,
        starts="same_day",
        valid_from=_DPA_2018_IN_FORCE,
        notes=(
            "72 hours after becoming aware, where feasible; give reasons if later. Use "
            "compute_due_at for the exact instant; the date-level deadline is the day it expires."
        ),
    ),
    TimeLimitRule(
        code="iopc_recommendation_response",
        title="Response to an IOPC recommendation",
        citation="PRA 2002 Sch 3 para 28B",
        kind="calendar_days",
        amount=56,
        valid_from=_PCMR_IN_FORCE,
        notes="The IOPC publishes the response within 21 days. Commencement date assumed [U].",
    ),
)


Registry = Mapping[str, tuple[TimeLimitRule, ...]]


def build_registry(rules: Iterable[TimeLimitRule]) -> Registry:
    """Group versions by code, oldest first, refusing overlapping periods in force."""
    grouped: dict[str, list[TimeLimitRule]] = {}
    for rule in rules:
        grouped.setdefault(rule.code, []).append(rule)
    registry: dict[str, tuple[TimeLimitRule, ...]] = {}
    for code, versions in grouped.items():
        ordered = tuple(sorted(versions, key=lambda rule: rule.valid_from))
        _check_no_overlap(code, ordered)
        registry[code] = ordered
    return MappingProxyType(registry)


def _check_no_overlap(code: str, ordered: tuple[TimeLimitRule, ...]) -> None:
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
            raise ValueError(f"{code}: versions {earlier.version} and {later.version} overlap")


RULES: Registry = build_registry(_RULE_DEFINITIONS)


def get_rule(code: str, on: date, registry: Registry = RULES) -> TimeLimitRule:
    """Return the version of rule `code` in force on `on`; LookupError if there is none."""
    if code not in registry:
        raise LookupError(f"unknown time-limit rule {code!r}")
    for rule in registry[code]:
        if rule.in_force_on(on):
            return rule
    raise LookupError(f"no version of {code!r} in force on {on.isoformat()}")


def rule_in_force(code: str, on: date, registry: Registry = RULES) -> bool:
    """Whether some version of rule `code` applies on `on`: a write refuses a date for which
    none does (a 422 naming its field) rather than storing a record no deadline can follow."""
    return any(rule.in_force_on(on) for rule in registry.get(code, ()))


@dataclass(frozen=True)
class Deadline:
    due: date
    rule: TimeLimitRule
    start: date
    paused_days: int
    extension_days: int
    extension_reason: str | None
    explanation: str


def compute_deadline(
    rule_code: str,
    start: date,
    *,
    paused_days: int = 0,
    extension_days: int = 0,
    extension_reason: str | None = None,
    jurisdiction: Jurisdiction = "ENG",
    registry: Registry = RULES,
) -> Deadline:
    """Compute the deadline for `rule_code` from the start event on `start`.

    The rule version in force on `start` (in `registry`) applies. `paused_days` (e.g. time
    spent forwarding a misdirected review application, PCMR reg 29(3)) and `extension_days`
    push the deadline back; an extension must give a reason.
    """
    _check_adjustments(paused_days, extension_days, extension_reason)
    rule = get_rule(rule_code, start, registry)
    base_due = _add_units(rule.kind, _origin(rule, start), rule.amount, jurisdiction)
    due = _add_extra_days(rule.kind, base_due, paused_days + extension_days, jurisdiction)
    explanation = _explain(rule, start, paused_days, extension_days, extension_reason, due)
    if rule.kind == "working_days":
        explanation += f" [{jurisdiction} working-day calendar]"
    return Deadline(
        due=due,
        rule=rule,
        start=start,
        paused_days=paused_days,
        extension_days=extension_days,
        extension_reason=extension_reason,
        explanation=explanation,
    )


def is_in_time(deadline: Deadline, received: date) -> bool:
    """True if something received on `received` met the deadline (the due day counts)."""
    return received <= deadline.due


def recurring_due_dates(
    rule_code: str,
    start: date,
    until: date,
    *,
    jurisdiction: Jurisdiction = "ENG",
    registry: Registry = RULES,
) -> list[date]:
    """Due dates of a recurring duty from `start` up to and including `until`.

    For "12 months then every 6 months" from 31 Aug 2023: 31 Aug 2024, 28 Feb 2025,
    31 Aug 2025, ... The schedule assumes each duty is met on its due date; an update given
    early restarts the "every 4 weeks" clock, so recompute from the actual date.
    """
    rule = get_rule(rule_code, start, registry)
    if rule.repeat_every is None:
        raise ValueError(f"{rule_code!r} is not a recurring time limit")
    origin = _origin(rule, start)
    due_dates: list[date] = []
    units = rule.amount
    while (due := _add_units(rule.kind, origin, units, jurisdiction)) <= until:
        due_dates.append(due)
        units += rule.repeat_every
    return due_dates


def compute_due_at(rule_code: str, aware_at: datetime) -> datetime:
    """Exact instant an hours-based limit expires (e.g. ICO breach: aware_at + 72 hours)."""
    rule = get_rule(rule_code, aware_at.date())
    if rule.kind != "hours":
        raise ValueError(f"{rule_code!r} is not an hours-based time limit")
    return aware_at + timedelta(hours=rule.amount)


def _check_adjustments(paused_days: int, extension_days: int, reason: str | None) -> None:
    if paused_days < 0 or extension_days < 0:
        raise ValueError("paused_days and extension_days must not be negative")
    if extension_days and not (reason and reason.strip()):
        raise ValueError("an extension requires a reason")


def _origin(rule: TimeLimitRule, start: date) -> date:
    """Day 0 of the count: the start itself, or the day before when the start day is day 1."""
    # An hours clock runs from the instant of awareness, so no whole day is added or skipped.
    if rule.kind == "hours" or rule.starts == "day_after":
        return start
    return start - _ONE_DAY


def _add_units(kind: Kind, origin: date, units: int, jurisdiction: Jurisdiction) -> date:
    if kind == "working_days":
        return add_working_days(origin, units, jurisdiction)
    if kind == "months":
        return add_months(origin, units)
    if kind == "weeks":
        return origin + timedelta(weeks=units)
    if kind == "hours":
        # Date-level view: the day on which the hours expire (see compute_due_at for the instant).
        return origin + timedelta(days=math.ceil(units / _HOURS_PER_DAY))
    return origin + timedelta(days=units)


def add_months(day: date, months: int) -> date:
    """Corresponding date `months` later, clamped to the last day of a shorter month."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1  # back to 1-based
    return date(year, month, min(day.day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - _ONE_DAY).day


def _add_extra_days(kind: Kind, due: date, days: int, jurisdiction: Jurisdiction) -> date:
    if kind == "working_days":
        return add_working_days(due, days, jurisdiction)
    return due + timedelta(days=days)


_MONTH_ABBREVIATIONS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def _format_date(day: date) -> str:
    # Not strftime("%b"): that follows the process locale, and explanations are stored records.
    return f"{day.day} {_MONTH_ABBREVIATIONS[day.month - 1]} {day.year}"


def _explain(
    rule: TimeLimitRule,
    start: date,
    paused_days: int,
    extension_days: int,
    extension_reason: str | None,
    due: date,
) -> str:
    unit = rule.kind.replace("_", " ")
    when = "starting the day after" if rule.starts == "day_after" else "starting with"
    if rule.kind == "hours":
        when = "from"
    parts = [f"{rule.amount} {unit} {when} {_format_date(start)} ({rule.citation})"]
    extra_unit = "working days" if rule.kind == "working_days" else "days"
    if paused_days:
        parts.append(f"plus {paused_days} paused {extra_unit}")
    if extension_days:
        parts.append(f"plus {extension_days} {extra_unit} extension ({extension_reason})")
    sentence = ", ".join(parts) + f" → {_format_date(due)}"
    if not rule.confirmed:
        sentence += " [UNCONFIRMED time limit: check the primary text]"
    return sentence

"""Working-time and welfare flags for one person (pure calculation over their records)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .working_time import WelfareRuleSet

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    starts_at: dt.datetime
    ends_at: dt.datetime
    break_minutes: int = 0
    label: str = ""

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass(frozen=True)
class Flag:
    code: str
    title: str
    detail: str
    citation: str
    when: dt.datetime | dt.date
    # Why the flag needs no further action (an opt-out, compensatory rest), or "".
    resolution: str = ""


@dataclass(frozen=True)
class WorkerFacts:
    """What the working-time limits depend on besides the hours: the start of employment
    (reg 4(4)), leave days excluded from the reference period (reg 4(6)-(7)), a written opt-out
    in force (reg 5), the employer's weekly-rest option (reg 11(1) or (2)) and compensatory
    rest recorded against a breach (reg 24)."""

    employment_started: dt.date | None = None
    leave: tuple[tuple[dt.date, dt.date], ...] = ()
    opt_out_signed: dt.date | None = None
    weekly_rest_option: str = "weekly"
    compensatory_rest: tuple[tuple[str, dt.date, float], ...] = ()  # (rule, breach day, hours)


@dataclass
class Assessment:
    hours_last_7_days: float = 0
    weekly_average: float = 0
    reference_weeks: float = 0
    excluded_days: int = 0
    night_worker: bool = False
    night_average: float = 0
    on_call_hours: float = 0
    longest_run_days: int = 0
    psych_due: dt.date | None = None
    flags: list[Flag] = field(default_factory=list)


def merge(periods: Sequence[Period], join_gap: dt.timedelta = dt.timedelta(0)) -> list[Period]:
    merged: list[Period] = []
    for period in sorted(periods, key=lambda p: p.starts_at):
        gap = period.starts_at - merged[-1].ends_at if merged else None
        if gap is not None and (gap < join_gap or gap <= dt.timedelta(0)):
            last = merged[-1]
            merged[-1] = Period(last.starts_at, max(last.ends_at, period.ends_at), 0, last.label)
        else:
            merged.append(period)
    return merged


def calendar_days(period: Period, zone: ZoneInfo) -> int:
    first = period.starts_at.astimezone(zone).date()
    last_instant = period.ends_at.astimezone(zone)
    last = last_instant.date()
    if last_instant.time() == dt.time(0) and last > first:
        last -= DAY
    return (last - first).days + 1


def assess(
    *,
    work: Sequence[Period],
    deployments: Sequence[Period],
    on_call_hours: float,
    last_psych_assessment: dt.date | None,
    as_of: dt.datetime,
    rules: WelfareRuleSet,
    zone: ZoneInfo,
    facts: WorkerFacts | None = None,
) -> Assessment:
    facts = facts or WorkerFacts()
    result = Assessment(on_call_hours=round(on_call_hours, 1))
    work = sorted((p for p in work if p.starts_at < as_of), key=lambda p: p.starts_at)
    result.hours_last_7_days = round(sum(_hours_within(p, as_of - 7 * DAY, as_of) for p in work), 1)
    reference = _reference_period(work, as_of, rules, zone, facts)
    _weekly_average(result, reference, rules, facts)
    _night_work(result, work, reference, rules, zone)
    recent = [p for p in work if p.ends_at > as_of - dt.timedelta(weeks=4)]
    _daily_rest(result, recent, rules, zone)
    _weekly_rest(result, recent, rules, zone, facts.weekly_rest_option)
    _rest_breaks(result, recent, rules, zone)
    _compensated(result, facts, zone)
    _deployment_runs(result, deployments, rules, zone)
    _psych(result, last_psych_assessment, as_of, rules, zone)
    return result


@dataclass(frozen=True)
class Reference:
    """reg 4(6): A (hours in the reference period), B (hours in the days after it until the
    days worked equal the excluded days), C (weeks in the reference period)."""

    start: dt.datetime
    end: dt.datetime
    a_hours: float
    b_hours: float
    weeks: float
    excluded_days: int


def _reference_period(
    work: Sequence[Period],
    as_of: dt.datetime,
    rules: WelfareRuleSet,
    zone: ZoneInfo,
    facts: WorkerFacts,
) -> Reference:
    """The latest reference period whose reg 4(6) "B" period is complete by `as_of`: its end
    moves back from `as_of` until the days worked after it cover the leave days excluded from
    it. Shorter service than the window: the period since work started (reg 4(4))."""
    window = dt.timedelta(weeks=rules["weekly_average"].window)
    started = _local_midnight(facts.employment_started, zone) if facts.employment_started else None
    end = as_of
    leave_in_window: int | None = None
    for _ in range(int(window / DAY) + 1):
        start = max(end - window, started) if started else end - window
        excluded = _leave_days(facts.leave, start, end, zone)
        if leave_in_window is None:
            leave_in_window = excluded  # what the latest window leaves out, for display
        worked_after = _days_worked(work, end, as_of, zone)
        if worked_after >= excluded:
            break
        end = _previous_midnight(end, zone)  # step back by whole days: leave is in days
    weeks = max((end - start) / dt.timedelta(weeks=1), 1 / 7)
    return Reference(
        start=start,
        end=end,
        a_hours=sum(_hours_within(p, start, end) for p in work),
        b_hours=sum(_hours_within(p, end, as_of) for p in work),
        weeks=weeks,
        excluded_days=leave_in_window or 0,
    )


def _weekly_average(
    result: Assessment, reference: Reference, rules: WelfareRuleSet, facts: WorkerFacts
) -> None:
    average = rules["weekly_average"]
    result.weekly_average = round((reference.a_hours + reference.b_hours) / reference.weeks, 1)
    result.reference_weeks = round(reference.weeks, 1)
    result.excluded_days = reference.excluded_days
    if result.weekly_average <= average.threshold:
        return
    opted_out = facts.opt_out_signed is not None and facts.opt_out_signed <= reference.end.date()
    result.flags.append(
        Flag(
            average.code,
            average.title,
            f"{result.weekly_average} hours a week over {result.reference_weeks:g} weeks"
            + (
                f", {reference.excluded_days} leave days excluded"
                if reference.excluded_days
                else ""
            ),
            average.citation,
            reference.end,
            resolution=(
                f"written opt-out signed {facts.opt_out_signed:%d %b %Y} (reg 5)"
                if opted_out
                else ""
            ),
        )
    )


def _night_work(
    result: Assessment,
    work: Sequence[Period],
    reference: Reference,
    rules: WelfareRuleSet,
    zone: ZoneInfo,
) -> None:
    """reg 6(1): a night worker's normal hours average at most 8 in each 24 over the reference
    period, worked out as A / (B - C): C is the weekly rest (one day in each seven)."""
    night = rules["night_work"]
    in_reference = [p for p in work if p.ends_at > reference.start and p.starts_at < reference.end]
    days: dict[dt.date, float] = {}
    for period in in_reference:
        for day, hours in _night_hours_by_day(period, zone).items():
            days[day] = days.get(day, 0.0) + hours
    worked_days = {p.starts_at.astimezone(zone).date() for p in in_reference}
    night_days = sum(1 for hours in days.values() if hours >= night.window)
    result.night_worker = bool(worked_days) and night_days * 2 > len(worked_days)
    if not result.night_worker:
        return
    calendar_days = (reference.end - reference.start) / DAY
    per_day = reference.a_hours / max(calendar_days - calendar_days / 7, 1)
    result.night_average = round(per_day, 1)
    if per_day > night.threshold:
        result.flags.append(
            Flag(
                night.code,
                night.title,
                f"night worker averaging {result.night_average} hours in each 24 over "
                f"{reference.weeks:.1f} weeks",
                night.citation,
                reference.end,
            )
        )


def _daily_rest(
    result: Assessment, recent: Sequence[Period], rules: WelfareRuleSet, zone: ZoneInfo
) -> None:
    """reg 10(1): 11 consecutive hours' rest "in each 24-hour period", checked in the 24 hours
    from the start of each period of work, so a short gap inside a split shift is no breach
    when the night's rest is long enough."""
    daily = rules["daily_rest"]
    merged = merge(recent)
    flagged_until: dt.datetime | None = None
    for period in merged:
        if flagged_until is not None and period.starts_at < flagged_until:
            continue
        window_end = period.starts_at + DAY
        longest = _longest_rest(merged, period.starts_at, window_end)
        if longest < daily.threshold * HOUR:
            flagged_until = window_end
            result.flags.append(
                Flag(
                    daily.code,
                    daily.title,
                    f"longest rest {longest.total_seconds() / 3600:.1f} hours in the 24 hours "
                    f"from {period.starts_at.astimezone(zone):%d %b %H:%M}",
                    daily.citation,
                    period.starts_at,
                )
            )


def _weekly_rest(
    result: Assessment,
    recent: Sequence[Period],
    rules: WelfareRuleSet,
    zone: ZoneInfo,
    option: str,
) -> None:
    """reg 11(1): 24 hours' uninterrupted rest in each 7 days; or, where the employer so
    determines (reg 11(2)), two rests of 24 hours or one of 48 hours in each 14 days."""
    weekly = rules["weekly_rest"]
    fortnightly = option == "fortnightly"
    span = (2 if fortnightly else 1) * weekly.window * DAY
    merged = merge(recent)
    flagged_until: dt.datetime | None = None
    for period in merged:
        window_end = period.ends_at
        window_start = window_end - span
        if merged[0].starts_at > window_start:
            continue  # no full window of records before this point
        if flagged_until is not None and window_start < flagged_until:
            continue  # one flag per breached window
        rests = _rests(merged, window_start, window_end)
        if _weekly_rest_met(rests, weekly.threshold, fortnightly):
            continue
        flagged_until = window_end
        longest = max(rests, default=dt.timedelta(0))
        days = "14" if fortnightly else "7"
        result.flags.append(
            Flag(
                weekly.code,
                weekly.title
                if not fortnightly
                else "No 48 hours' or two 24 hours' rest in 14 days",
                f"longest rest {longest.total_seconds() / 3600:.1f} hours in the {days} days to "
                f"{window_end.astimezone(zone):%d %b}",
                weekly.citation if not fortnightly else f"{weekly.citation}; reg 11(2) option",
                window_end,
            )
        )


def _weekly_rest_met(rests: list[dt.timedelta], hours: float, fortnightly: bool) -> bool:
    if not fortnightly:
        return any(rest >= hours * HOUR for rest in rests)
    long_rests = [rest for rest in rests if rest >= hours * HOUR]
    return len(long_rests) >= 2 or any(rest >= 2 * hours * HOUR for rest in rests)


def _rest_breaks(
    result: Assessment, recent: Sequence[Period], rules: WelfareRuleSet, zone: ZoneInfo
) -> None:
    breaks = rules["rest_break"]
    for period in recent:
        if period.hours > breaks.threshold and period.break_minutes < breaks.window:
            result.flags.append(
                Flag(
                    breaks.code,
                    breaks.title,
                    f"{period.hours:.1f} hours from "
                    f"{period.starts_at.astimezone(zone):%d %b %H:%M} "
                    f"with {period.break_minutes} minutes' break",
                    breaks.citation,
                    period.starts_at,
                )
            )


def _compensated(result: Assessment, facts: WorkerFacts, zone: ZoneInfo) -> None:
    """reg 24: where a special case displaces a rest, the compensatory rest recorded against
    the breach resolves its flag (the flag stays visible with the resolution)."""
    for index, flag in enumerate(result.flags):
        when = (
            flag.when.astimezone(zone).date() if isinstance(flag.when, dt.datetime) else flag.when
        )
        for rule, breach_on, hours in facts.compensatory_rest:
            if rule == flag.code and breach_on == when:
                result.flags[index] = Flag(
                    flag.code,
                    flag.title,
                    flag.detail,
                    flag.citation,
                    flag.when,
                    resolution=f"{hours:g} hours' compensatory rest recorded (reg 24)",
                )


def _deployment_runs(
    result: Assessment, deployments: Sequence[Period], rules: WelfareRuleSet, zone: ZoneInfo
) -> None:
    """Back-to-back deployments: runs not broken by the configured rest."""
    run_rule = rules["deployment_run"]
    for run in merge(deployments, join_gap=run_rule.window * HOUR):
        days = calendar_days(run, zone)
        result.longest_run_days = max(result.longest_run_days, days)
        if days > run_rule.threshold:
            result.flags.append(
                Flag(
                    run_rule.code,
                    run_rule.title,
                    f"{days}-day run from {run.starts_at.astimezone(zone):%d %b} to "
                    f"{run.ends_at.astimezone(zone):%d %b}",
                    run_rule.citation,
                    run.starts_at,
                )
            )


def _psych(
    result: Assessment,
    last_psych_assessment: dt.date | None,
    as_of: dt.datetime,
    rules: WelfareRuleSet,
    zone: ZoneInfo,
) -> None:
    psych = rules["psych_assessment"]
    today = as_of.astimezone(zone).date()
    if last_psych_assessment is None:
        result.flags.append(
            Flag(psych.code, psych.title, "no assessment recorded", psych.citation, today)
        )
        return
    due = psych_due_on(last_psych_assessment, rules)
    result.psych_due = due
    if due - dt.timedelta(days=psych.window) <= today:
        # Read after the title ("Psychological assessment due"): "… due by 15 Jul 2025" or
        # "… due since 1 Jul 2025 (overdue)", never "due due on".
        when = f"{due.day} {due:%b %Y}"
        detail = f"since {when} (overdue)" if due < today else f"by {when}"
        result.flags.append(Flag(psych.code, psych.title, detail, psych.citation, due))


def psych_due_on(last_psych_assessment: dt.date, rules: WelfareRuleSet) -> dt.date:
    """When the next psychological assessment is due after the last one (the rule's interval)."""
    return _add_months(last_psych_assessment, int(rules["psych_assessment"].threshold))


def psych_overdue(
    last_psych_assessment: dt.date | None, today: dt.date, rules: WelfareRuleSet
) -> bool:
    """Overdue as the welfare flag says it: a recorded assessment whose next one was due
    before today. (No assessment recorded is flagged apart, as "no assessment recorded".)"""
    return last_psych_assessment is not None and psych_due_on(last_psych_assessment, rules) < today


def _rests(merged: Sequence[Period], start: dt.datetime, end: dt.datetime) -> list[dt.timedelta]:
    """The rest periods between `start` and `end` (clipped to them)."""
    rests = []
    cursor = start
    for period in merged:
        if period.ends_at <= start or period.starts_at >= end:
            continue
        rests.append(max(period.starts_at, start) - cursor)
        cursor = max(cursor, period.ends_at)
    rests.append(end - min(cursor, end))
    return [rest for rest in rests if rest > dt.timedelta(0)]


def _longest_rest(merged: Sequence[Period], start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    return max(_rests(merged, start, end), default=dt.timedelta(0))


def _local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def _previous_midnight(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    midnight = _local_midnight(instant.astimezone(zone).date(), zone)
    return midnight - DAY if midnight == instant else midnight


def _leave_days(
    leave: Sequence[tuple[dt.date, dt.date]], start: dt.datetime, end: dt.datetime, zone: ZoneInfo
) -> int:
    """reg 4(7) excluded days: days of annual, sick or family leave inside the period."""
    first, last = start.astimezone(zone).date(), (end - dt.timedelta(seconds=1)).astimezone(zone)
    days: set[dt.date] = set()
    for leave_from, leave_to in leave:
        day = max(leave_from, first)
        while day <= min(leave_to, last.date()):
            days.add(day)
            day += DAY
    return len(days)


def _days_worked(
    work: Sequence[Period], start: dt.datetime, end: dt.datetime, zone: ZoneInfo
) -> int:
    return len({p.starts_at.astimezone(zone).date() for p in work if start <= p.starts_at < end})


def _night_hours_by_day(period: Period, zone: ZoneInfo) -> dict[dt.date, float]:
    """Hours of `period` in night time (reg 2 default: 11 pm to 6 am), by the local date on
    which each night began."""
    hours: dict[dt.date, float] = {}
    day = period.starts_at.astimezone(zone).date() - DAY
    while _local_midnight(day, zone) < period.ends_at:
        night_start = dt.datetime.combine(day, dt.time(23), tzinfo=zone)
        night_end = dt.datetime.combine(day + DAY, dt.time(6), tzinfo=zone)
        overlap = min(period.ends_at, night_end) - max(period.starts_at, night_start)
        if overlap > dt.timedelta(0):
            hours[day] = hours.get(day, 0.0) + overlap.total_seconds() / 3600
        day += DAY
    return hours


def _hours_within(period: Period, start: dt.datetime, end: dt.datetime) -> float:
    overlap = min(period.ends_at, end) - max(period.starts_at, start)
    if overlap <= dt.timedelta(0):
        return 0.0
    whole = period.ends_at - period.starts_at
    worked = whole - dt.timedelta(minutes=period.break_minutes)
    return overlap.total_seconds() / 3600 * (worked / whole)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)

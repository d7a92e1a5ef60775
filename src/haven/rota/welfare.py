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


@dataclass
class Assessment:
    hours_last_7_days: float = 0
    weekly_average: float = 0
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
) -> Assessment:
    result = Assessment(on_call_hours=round(on_call_hours, 1))
    work = sorted((p for p in work if p.starts_at < as_of), key=lambda p: p.starts_at)

    # reg 4: rolling average week over the reference period
    average = rules["weekly_average"]
    reference_start = as_of - dt.timedelta(weeks=average.window)
    in_reference = sum(_hours_within(p, reference_start, as_of) for p in work)
    result.weekly_average = round(in_reference / average.window, 1)
    result.hours_last_7_days = round(sum(_hours_within(p, as_of - 7 * DAY, as_of) for p in work), 1)
    if result.weekly_average > average.threshold:
        result.flags.append(
            Flag(
                average.code,
                average.title,
                f"{result.weekly_average} hours a week over {average.window:g} weeks",
                average.citation,
                as_of,
            )
        )

    recent = [p for p in work if p.ends_at > reference_start]
    # reg 10: rest between consecutive periods of work
    daily = rules["daily_rest"]
    for before, after in zip(recent, recent[1:], strict=False):
        rest = after.starts_at - before.ends_at
        if dt.timedelta(0) <= rest < daily.threshold * HOUR:
            result.flags.append(
                Flag(
                    daily.code,
                    daily.title,
                    f"{rest.total_seconds() / 3600:.1f} hours' rest before "
                    f"{after.starts_at.astimezone(zone):%d %b %H:%M}",
                    daily.citation,
                    after.starts_at,
                )
            )

    # reg 11: each 7-day window ending at a period's end needs one uninterrupted 24-hour rest
    weekly = rules["weekly_rest"]
    merged = merge(recent)
    flagged_until: dt.datetime | None = None
    for period in merged:
        window_end = period.ends_at
        window_start = window_end - weekly.window * DAY
        if merged[0].starts_at > window_start:
            continue  # no full 7 days of records before this point
        if flagged_until is not None and window_start < flagged_until:
            continue  # one flag per breached window
        inside = [p for p in merged if p.ends_at > window_start and p.starts_at < window_end]
        longest = dt.timedelta(0)
        cursor = window_start
        for p in inside:
            longest = max(longest, p.starts_at - cursor)
            cursor = max(cursor, p.ends_at)
        longest = max(longest, window_end - cursor)
        if longest < weekly.threshold * HOUR:
            flagged_until = window_end
            result.flags.append(
                Flag(
                    weekly.code,
                    weekly.title,
                    f"longest rest {longest.total_seconds() / 3600:.1f} hours in the 7 days to "
                    f"{window_end.astimezone(zone):%d %b}",
                    weekly.citation,
                    window_end,
                )
            )

    # reg 12: a break when working over 6 hours
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

    # Back-to-back deployments: runs not broken by the configured rest
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

    psych = rules["psych_assessment"]
    today = as_of.astimezone(zone).date()
    if last_psych_assessment is None:
        result.flags.append(
            Flag(psych.code, psych.title, "no assessment recorded", psych.citation, today)
        )
    else:
        due = _add_months(last_psych_assessment, int(psych.threshold))
        result.psych_due = due
        if due - dt.timedelta(days=psych.window) <= today:
            state = "overdue since" if due < today else "due on"
            result.flags.append(
                Flag(psych.code, psych.title, f"{state} {due:%d %b %Y}", psych.citation, due)
            )
    return result


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

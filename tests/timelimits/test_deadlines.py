"""Worked examples and properties for statutory deadlines (pure Python, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.timelimits import (
    JURISDICTIONS,
    RULES,
    TimeLimitRule,
    add_months,
    add_working_days,
    build_registry,
    compute_deadline,
    compute_due_at,
    easter_sunday,
    get_rule,
    is_in_time,
    is_working_day,
    recurring_due_dates,
    working_days_between,
)
from haven.timelimits import calendar as working_calendar

REVIEW = "complaint_review_application"
UPDATE = "complaint_progress_update"
OUTCOME = "complaint_outcome_notification"
OVERDUE = "overdue_investigation_report"
CONDUCT = "conduct_response"
WITNESSES = "conduct_witness_list"
PAT_PAPERS = "pat_respondent_papers"
ICO = "ico_breach_notification"
IOPC_RESPONSE = "iopc_recommendation_response"
REASON = "special circumstances"


@dataclass(frozen=True)
class WorkedExample:
    id: str
    rule_code: str
    start: date
    due: date
    options: dict[str, Any] = field(default_factory=dict)


WORKED_EXAMPLES = [
    # Notice 1 Jan: day 1 is 2 Jan, day 28 is 29 Jan (PCMR reg 29(2)).
    WorkedExample("review-basic", REVIEW, date(2025, 1, 1), date(2025, 1, 29)),
    WorkedExample("review-year-end", REVIEW, date(2024, 12, 20), date(2025, 1, 17)),
    WorkedExample("review-leap-feb", REVIEW, date(2024, 2, 1), date(2024, 2, 29)),
    WorkedExample("review-non-leap-feb", REVIEW, date(2025, 2, 1), date(2025, 3, 1)),
    # Calendar-day limits do not roll forward: 1 Feb 2025 is a Saturday and stays the deadline.
    WorkedExample("review-ends-saturday", REVIEW, date(2025, 1, 4), date(2025, 2, 1)),
    # Days spent forwarding a misdirected application (reg 29(3)) are added back.
    WorkedExample("review-paused", REVIEW, date(2025, 1, 1), date(2025, 2, 1), {"paused_days": 3}),
    WorkedExample(
        "review-extended",
        REVIEW,
        date(2025, 1, 1),
        date(2025, 2, 5),
        {"extension_days": 7, "extension_reason": REASON},
    ),
    WorkedExample(
        "review-paused-and-extended",
        REVIEW,
        date(2025, 1, 1),
        date(2025, 2, 8),
        {"paused_days": 3, "extension_days": 7, "extension_reason": REASON},
    ),
    # 17 Apr, then Good Friday 18, weekend, Easter Monday 21 skipped: 17, 22, 23, 24, 25.
    WorkedExample("outcome-over-easter", OUTCOME, date(2025, 4, 16), date(2025, 4, 25)),
    # 2-4, 7-11, 14-17 Apr, then 22, 23, 24 Apr 2025 (Good Friday and Easter Monday skipped).
    WorkedExample("pat-papers-over-easter", PAT_PAPERS, date(2025, 4, 1), date(2025, 4, 24)),
    # 20, 23, 24, 27, 30, 31 Dec, 2, 3, 6-10, 13, 14 Jan (25, 26 Dec and 1 Jan skipped).
    WorkedExample("conduct-christmas-eng", CONDUCT, date(2024, 12, 19), date(2025, 1, 14)),
    # Scotland also keeps 2 January, so one working day later.
    WorkedExample(
        "conduct-christmas-sct",
        CONDUCT,
        date(2024, 12, 19),
        date(2025, 1, 15),
        {"jurisdiction": "SCT"},
    ),
    WorkedExample("witnesses-new-year-eng", WITNESSES, date(2024, 12, 31), date(2025, 1, 6)),
    WorkedExample(
        "witnesses-new-year-sct",
        WITNESSES,
        date(2024, 12, 31),
        date(2025, 1, 7),
        {"jurisdiction": "SCT"},
    ),
    # 2022: Christmas on a Sunday, so 27 Dec is a substitute day; 2 Jan 2023 substitutes 1 Jan.
    WorkedExample("outcome-substitute-days", OUTCOME, date(2022, 12, 23), date(2023, 1, 4)),
    # Extensions of working-day limits are counted in working days.
    WorkedExample(
        "conduct-extension",
        CONDUCT,
        date(2024, 12, 19),
        date(2025, 1, 16),
        {"extension_days": 2, "extension_reason": REASON},
    ),
    # 12 months from 31 Jan needs no clamping; from 29 Feb it clamps to 28 Feb (month-end rule).
    WorkedExample("overdue-report-31-jan", OVERDUE, date(2024, 1, 31), date(2025, 1, 31)),
    WorkedExample("overdue-report-29-feb", OVERDUE, date(2024, 2, 29), date(2025, 2, 28)),
    WorkedExample("first-progress-update", UPDATE, date(2025, 1, 1), date(2025, 1, 29)),
    WorkedExample("ico-72-hours", ICO, date(2025, 1, 1), date(2025, 1, 4)),
    WorkedExample("iopc-response-56-days", IOPC_RESPONSE, date(2025, 1, 1), date(2025, 2, 26)),
    # Calendar days ignore Good Friday and Easter Monday (no roll-over): 17 Apr + 28.
    WorkedExample("review-over-easter", REVIEW, date(2025, 4, 17), date(2025, 5, 15)),
    # 23, 24 Dec, then 25, 26 Dec and the weekend skipped: 29, 30, 31 Dec 2025.
    WorkedExample("outcome-over-christmas-2025", OUTCOME, date(2025, 12, 22), date(2025, 12, 31)),
    # Easter 2026: Good Friday 3 Apr and Easter Monday 6 Apr skipped.
    WorkedExample("conduct-over-easter-2026", CONDUCT, date(2026, 3, 30), date(2026, 4, 22)),
]


@pytest.mark.parametrize("example", WORKED_EXAMPLES, ids=lambda example: example.id)
def test_worked_example(example: WorkedExample) -> None:
    deadline = compute_deadline(example.rule_code, example.start, **example.options)
    assert deadline.due == example.due
    assert deadline.start == example.start
    assert deadline.rule.code == example.rule_code


@pytest.mark.parametrize(
    ("day", "jurisdiction", "working"),
    [
        (date(2025, 4, 17), "ENG", True),
        (date(2025, 4, 18), "ENG", False),  # Good Friday
        (date(2025, 4, 19), "ENG", False),  # Saturday
        (date(2025, 4, 21), "ENG", False),  # Easter Monday
        (date(2025, 4, 21), "SCT", True),  # not a Scottish bank holiday
        (date(2025, 1, 2), "ENG", True),
        (date(2025, 1, 2), "SCT", False),  # 2 January
        (date(2025, 3, 17), "NIR", False),  # St Patrick's Day
        (date(2025, 3, 17), "WLS", True),
        (date(2024, 12, 25), "WLS", False),
        (date(2024, 12, 26), "ENG", False),
        (date(2022, 12, 27), "ENG", False),  # substitute for Christmas on a Sunday
        (date(2023, 5, 8), "ENG", False),  # coronation bank holiday
    ],
)
def test_is_working_day(day: date, jurisdiction: str, working: bool) -> None:
    assert is_working_day(day, jurisdiction) is working  # type: ignore[arg-type]


def test_christmas_and_good_friday_excluded_even_without_bank_holiday_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(working_calendar.holidays, "country_holidays", lambda *a, **k: {})
    working_calendar._non_working_holidays.cache_clear()
    try:
        assert not is_working_day(date(2025, 4, 18))  # Good Friday
        assert not is_working_day(date(2025, 12, 25))  # Christmas Day
        assert is_working_day(date(2025, 12, 26))  # Boxing Day is only a bank holiday
    finally:
        working_calendar._non_working_holidays.cache_clear()


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2038])
def test_easter_sunday_matches_holidays_package(year: int) -> None:
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=year)
    good_friday = easter_sunday(year) - timedelta(days=2)
    assert bank_holidays.get(good_friday) == "Good Friday"


def test_known_easter_dates() -> None:
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2025) == date(2025, 4, 20)


def test_explanation_cites_rule_and_dates() -> None:
    deadline = compute_deadline("complaint_review_application", date(2025, 1, 1))
    assert deadline.explanation == (
        "28 calendar days starting the day after 1 Jan 2025 (PCMR 2020 reg 29(2)) → 29 Jan 2025"
    )


def test_explanation_records_pause_extension_and_calendar() -> None:
    deadline = compute_deadline(
        "conduct_response",
        date(2024, 12, 19),
        paused_days=1,
        extension_days=2,
        extension_reason="officer hospitalised",
        jurisdiction="SCT",
    )
    assert "Conduct Regs 2020 reg 31(1)" in deadline.explanation
    assert "plus 1 paused working days" in deadline.explanation
    assert "officer hospitalised" in deadline.explanation
    assert "[SCT working-day calendar]" in deadline.explanation
    assert deadline.extension_reason == "officer hospitalised"


def test_unconfirmed_appeal_notice_is_flagged() -> None:
    deadline = compute_deadline("pat_appeal_notice", date(2025, 1, 1))
    assert deadline.rule.confirmed is False
    assert "UNCONFIRMED" in deadline.explanation
    assert deadline.due == date(2025, 1, 15)


def test_all_other_rules_are_confirmed() -> None:
    unconfirmed = {code for code, versions in RULES.items() if not versions[-1].confirmed}
    assert unconfirmed == {"pat_appeal_notice"}


@pytest.mark.parametrize(
    "options",
    [
        {"paused_days": -1},
        {"extension_days": -1, "extension_reason": "x"},
        {"extension_days": 3},
        {"extension_days": 3, "extension_reason": "   "},
    ],
)
def test_invalid_adjustments_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        compute_deadline("complaint_review_application", date(2025, 1, 1), **options)


def test_unknown_rule_and_rule_not_yet_in_force() -> None:
    with pytest.raises(LookupError):
        compute_deadline("no_such_rule", date(2025, 1, 1))
    with pytest.raises(LookupError):
        get_rule("complaint_review_application", date(2020, 1, 31))  # before PCMR 2020


def test_unknown_jurisdiction_and_negative_working_days() -> None:
    with pytest.raises(ValueError):
        is_working_day(date(2025, 1, 2), "XYZ")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        add_working_days(date(2025, 1, 2), -1)


def test_is_in_time_includes_the_due_day() -> None:
    deadline = compute_deadline("complaint_review_application", date(2025, 1, 1))
    assert is_in_time(deadline, date(2025, 1, 29))
    assert not is_in_time(deadline, date(2025, 1, 30))


def _rule_version(version: int, valid_from: date, valid_to: date | None, amount: int):
    return TimeLimitRule(
        code="demo",
        title="Demo",
        citation=f"Demo Regs v{version}",
        kind="calendar_days",
        amount=amount,
        starts="day_after",
        version=version,
        valid_from=valid_from,
        valid_to=valid_to,
        notes="",
    )


def test_version_in_force_on_start_date_applies() -> None:
    registry = build_registry(
        [
            _rule_version(2, date(2025, 5, 28), None, 21),
            _rule_version(1, date(2020, 2, 1), date(2025, 5, 27), 28),
        ]
    )
    assert get_rule("demo", date(2025, 5, 27), registry).version == 1
    assert get_rule("demo", date(2025, 5, 28), registry).version == 2
    old = compute_deadline("demo", date(2025, 5, 27), registry=registry)
    new = compute_deadline("demo", date(2025, 5, 28), registry=registry)
    assert (old.due, new.due) == (date(2025, 6, 24), date(2025, 6, 18))


def test_overlapping_versions_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        build_registry(
            [
                _rule_version(1, date(2020, 2, 1), None, 28),
                _rule_version(2, date(2025, 5, 28), None, 21),
            ]
        )


def test_registry_keys_match_rule_codes() -> None:
    for code, versions in RULES.items():
        assert versions and all(rule.code == code and rule.citation for rule in versions)


def test_overdue_reports_every_six_months_with_month_end_clamping() -> None:
    # Counted from the original start each time, so 28 Feb never drags 31 Aug to 28 Aug.
    due = recurring_due_dates("overdue_investigation_report", date(2023, 8, 31), date(2026, 8, 31))
    assert due == [
        date(2024, 8, 31),
        date(2025, 2, 28),
        date(2025, 8, 31),
        date(2026, 2, 28),
        date(2026, 8, 31),
    ]


def test_progress_updates_every_four_weeks() -> None:
    due = recurring_due_dates("complaint_progress_update", date(2025, 1, 1), date(2025, 4, 1))
    assert due == [date(2025, 1, 29), date(2025, 2, 26), date(2025, 3, 26)]


def test_recurring_needs_a_recurring_rule() -> None:
    assert (
        recurring_due_dates("overdue_investigation_report", date(2025, 1, 1), date(2025, 6, 1))
        == []
    )
    with pytest.raises(ValueError):
        recurring_due_dates("complaint_review_application", date(2025, 1, 1), date(2026, 1, 1))


def test_ico_breach_exact_instant() -> None:
    aware = datetime(2025, 1, 1, 15, 30)
    assert compute_due_at("ico_breach_notification", aware) == datetime(2025, 1, 4, 15, 30)
    with pytest.raises(ValueError):
        compute_due_at("complaint_review_application", aware)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2024, 12, 15), 1, date(2025, 1, 15)),
        (date(2024, 3, 31), 12, date(2025, 3, 31)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


# --- properties ---------------------------------------------------------------------------

dates = st.dates(min_value=date(2020, 2, 1), max_value=date(2040, 12, 31))
jurisdictions = st.sampled_from(JURISDICTIONS)


@given(start=dates, n=st.integers(min_value=1, max_value=60), jurisdiction=jurisdictions)
def test_add_working_days_lands_on_a_working_day(start: date, n: int, jurisdiction) -> None:
    assert is_working_day(add_working_days(start, n, jurisdiction), jurisdiction)


@given(start=dates, n=st.integers(min_value=0, max_value=60), jurisdiction=jurisdictions)
def test_add_working_days_is_strictly_monotonic(start: date, n: int, jurisdiction) -> None:
    assert add_working_days(start, n + 1, jurisdiction) > add_working_days(start, n, jurisdiction)


@given(start=dates, n=st.integers(min_value=0, max_value=60), jurisdiction=jurisdictions)
def test_working_days_between_inverts_add(start: date, n: int, jurisdiction) -> None:
    end = add_working_days(start, n, jurisdiction)
    assert working_days_between(start, end, jurisdiction) == n
    assert working_days_between(end, start, jurisdiction) == -n


@given(
    start=dates,
    paused=st.integers(min_value=0, max_value=30),
    extension=st.integers(min_value=0, max_value=30),
)
def test_review_deadline_is_28_days_plus_adjustments(start: date, paused: int, extension: int):
    deadline = compute_deadline(
        "complaint_review_application",
        start,
        paused_days=paused,
        extension_days=extension,
        extension_reason="special circumstances",
    )
    assert (deadline.due - start).days == 28 + paused + extension


@given(start=dates, until=dates)
def test_recurring_dates_increase_and_stop_at_until(start: date, until: date) -> None:
    due = recurring_due_dates("overdue_investigation_report", start, until)
    assert due == sorted(set(due))
    assert all(start < day <= until for day in due)

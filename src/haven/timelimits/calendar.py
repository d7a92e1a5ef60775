"""Working-day calendar for the four UK jurisdictions.

A working day is any day other than a Saturday, a Sunday, Christmas Day, Good Friday or a bank
holiday of the jurisdiction (DESIGN.md "Domain rules"). Bank holidays (including substitute
days and one-off days such as coronation or state-funeral holidays) come from the `holidays`
package; Christmas Day and Good Friday are added explicitly because they are common-law
holidays, not bank holidays, and must never depend on a third-party table.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Literal, get_args

import holidays

Jurisdiction = Literal["ENG", "WLS", "SCT", "NIR"]
JURISDICTIONS: tuple[Jurisdiction, ...] = get_args(Jurisdiction)

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


def easter_sunday(year: int) -> date:
    """Western Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    moon_correction = (century + 8) // 25
    epact_shift = (century - moon_correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - epact_shift + 15) % 30
    quarter, quarter_rest = divmod(year_of_century, 4)
    weekday_shift = (32 + 2 * century_rest + 2 * quarter - epact - quarter_rest) % 7
    full_moon_fix = (golden + 11 * epact + 22 * weekday_shift) // 451
    month, day = divmod(epact + weekday_shift - 7 * full_moon_fix + 114, 31)
    return date(year, month, day + 1)


def _check_jurisdiction(jurisdiction: str) -> None:
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"unknown jurisdiction {jurisdiction!r}; expected one of {JURISDICTIONS}")


@functools.lru_cache(maxsize=256)
def _non_working_holidays(jurisdiction: Jurisdiction, year: int) -> frozenset[date]:
    """Holidays of one jurisdiction and year, as an immutable (thread-safe) set."""
    bank_holidays = holidays.country_holidays("GB", subdiv=jurisdiction, years=year)
    good_friday = easter_sunday(year) - 2 * _ONE_DAY
    christmas_day = date(year, 12, 25)
    return frozenset(bank_holidays) | {good_friday, christmas_day}


def is_working_day(day: date, jurisdiction: Jurisdiction = "ENG") -> bool:
    """True unless `day` is a weekend, Christmas Day, Good Friday or a bank holiday."""
    _check_jurisdiction(jurisdiction)
    if day.weekday() >= _SATURDAY:
        return False
    return day not in _non_working_holidays(jurisdiction, day.year)


def add_working_days(start: date, n: int, jurisdiction: Jurisdiction = "ENG") -> date:
    """Return the n-th working day after `start` (the start day itself never counts).

    `n == 0` returns `start` unchanged. Example (ENG): 17 Apr 2025 + 1 working day is
    22 Apr 2025, because 18 Apr (Good Friday), the weekend and 21 Apr (Easter Monday) are skipped.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    _check_jurisdiction(jurisdiction)
    day = start
    remaining = n
    while remaining:
        day += _ONE_DAY
        if is_working_day(day, jurisdiction):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, jurisdiction: Jurisdiction = "ENG") -> int:
    """Count working days d with start < d <= end (negative if end is before start).

    This is the inverse of `add_working_days`:
    `working_days_between(s, add_working_days(s, n)) == n` for every n >= 0.
    """
    _check_jurisdiction(jurisdiction)
    if end < start:
        return -working_days_between(end, start, jurisdiction)
    following_days = (start + offset * _ONE_DAY for offset in range(1, (end - start).days + 1))
    return sum(1 for day in following_days if is_working_day(day, jurisdiction))

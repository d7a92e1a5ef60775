"""The dates any input may name: one range for every form field and query parameter.

Python's dates end at 9999-12-31, so "9999-12-31 plus a fortnight" (a calendar page) or "now
minus 800,000 days" (an age filter) overflow into a server error. Nothing Haven records lies
outside this range, so a date beyond it is refused as input, naming the field."""

from __future__ import annotations

from datetime import date, datetime

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
# The widest day count a filter may ask for (older than N days): back to EARLIEST_DATE.
MAX_DAYS = 100 * 366


def check_within_calendar(value: date | datetime) -> None:
    """ValueError unless the date (or the day of a datetime) lies in the accepted range."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(
            f"must be a date from {EARLIEST_DATE:%-d %B %Y} to {LATEST_DATE:%-d %B %Y}"
        )

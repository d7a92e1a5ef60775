"""Filling GOV.UK form patterns the way a person does."""

from __future__ import annotations

from typing import Any


def fill_date(where: Any, label: str, iso: str) -> None:
    """Type an ISO date (YYYY-MM-DD) into the Day, Month and Year boxes of the GOV.UK date
    input whose fieldset is named `label`."""
    year, month, day = iso.split("-")
    group = where.get_by_role("group", name=label, exact=True)
    group.get_by_label("Day").fill(str(int(day)))
    group.get_by_label("Month").fill(str(int(month)))
    group.get_by_label("Year").fill(year)

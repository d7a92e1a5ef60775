"""Authorisation durations and reminders: configuration with its source, never literals.

The statutory maximum duration of each kind of authorisation is NOT encoded as fact here: the
register records the dates the authorising officer set (granted, expires, each renewal). The
defaults below only pre-fill the expiry on the form; each says where it comes from and whether
it has been confirmed against the legislation in force. Until a force's legal adviser confirms
one (``confirmed=True`` in ``settings.HAVEN_AUTHORISATION_DURATIONS``), pages show it as
"unconfirmed". Override: ``HAVEN_AUTHORISATION_DURATIONS = {"directed_surveillance":
{"days": 92, "source": "...", "confirmed": True}}``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings

CONFIG_VERSION = "authorisations-2026.1"


@dataclass(frozen=True)
class Duration:
    days: int | None  # None: no default; the expiry must be entered
    source: str
    confirmed: bool = False

    @property
    def period(self) -> dt.timedelta | None:
        return dt.timedelta(days=self.days) if self.days else None


# Unconfirmed: the provisions to check are named, the figures are not asserted.
DEFAULT_DURATIONS: dict[str, Duration] = {
    "directed_surveillance": Duration(
        None,
        "RIPA 2000 Part II, s.43 (duration of authorisations): to be confirmed by the force's "
        "legal adviser; enter the expiry the authorising officer set",
    ),
    "property_interference": Duration(
        None,
        "Police Act 1997 Part III, s.95 (duration of authorisations): to be confirmed by the "
        "force's legal adviser; enter the expiry the authorising officer set",
    ),
    "equipment_interference": Duration(
        None,
        "Investigatory Powers Act 2016 Part 5, s.116 (duration of warrants): to be confirmed by "
        "the force's legal adviser; enter the expiry on the warrant",
    ),
}

# Operational choice, not statute: how far ahead of expiry the first reminder goes out.
REMIND_BEFORE = dt.timedelta(days=7)


def duration_for(kind: str) -> Duration:
    overrides: dict[str, Any] = getattr(settings, "HAVEN_AUTHORISATION_DURATIONS", {}) or {}
    if kind in overrides:
        return Duration(**overrides[kind])
    return DEFAULT_DURATIONS[kind]


def remind_before() -> dt.timedelta:
    days = getattr(settings, "HAVEN_AUTHORISATION_REMIND_DAYS", None)
    return dt.timedelta(days=days) if days is not None else REMIND_BEFORE

"""A person's on-call shifts as an iCalendar feed (RFC 5545) that calendar clients accept."""

from __future__ import annotations

import datetime as dt
import hashlib

from icalendar import Calendar, Event

from haven.accounts.models import User

from .models import Rota
from .selectors import Segment

PRODID = "-//Haven//On-call rota//EN"


def feed(person: User, shifts: list[tuple[Rota, Segment]], now: dt.datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"On call: {person}")
    for rota, segment in shifts:
        event = Event()
        key = f"{rota.pk}:{person.pk}:{segment.starts_at.isoformat()}"
        event.add("uid", hashlib.sha256(key.encode()).hexdigest()[:32] + "@haven")
        event.add("dtstamp", now)
        event.add("dtstart", segment.starts_at)
        event.add("dtend", segment.ends_at)
        event.add("summary", f"On call: {rota.name}")
        event.add("description", f"{rota.name} ({segment.source or 'rota'}); times in UTC")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()  # type: ignore[no-any-return]

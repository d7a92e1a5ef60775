from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from icalendar import Calendar

from haven.rota import services
from haven.rota.models import Rotation
from tests.equipment.helpers import supervisor, technician
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 10, 20, 12, tzinfo=dt.UTC)


def rota_with(boss, people):
    rota = services.create_rota(boss, name="Views rota", starts_on=dt.date(2025, 10, 1))
    services.add_layer(
        boss,
        rota.pk,
        name="Primary",
        members=people,
        handover_time=dt.time(9),
        rotation=Rotation.DAILY,
    )
    return rota


@time_machine.travel(NOW, tick=False)
def test_ical_feed_is_accepted_by_a_calendar_parser_and_keeps_0900_across_the_autumn_change():
    boss, tech = supervisor(), technician()
    rota_with(boss, [tech, technician()])
    _, secret = services.issue_feed_token(tech)
    response = Client().get(f"/api/rota/feeds/{secret}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    starts = [e.decoded("dtstart") for e in calendar.walk("VEVENT")]
    london = {s.astimezone(ZoneInfo("Europe/London")).hour for s in starts}
    assert london == {9} and len(starts) > 15
    services.revoke_feed_token(tech)
    assert Client().get(f"/api/rota/feeds/{secret}.ics").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_rota_page_shows_the_autumn_changeover_and_override_errors():
    boss, tech = supervisor(), technician()
    rota = rota_with(boss, [tech, technician()])
    client = force_sign_in(Client(), boss)
    page = client.get(f"/operations/rota/{rota.pk}/?start=2025-10-25&days=3").content.decode()
    assert "Sat 25 Oct 2025 09:00 BST" in page and "Sun 26 Oct 2025 09:00 GMT" in page
    assert "25.0" in page
    bad = client.post(
        f"/operations/rota/{rota.pk}/",
        {
            "action": "override",
            "override-user": tech.pk,
            "override-reason": "cover",
            "override-starts_at": "2025-10-22T10:00",
            "override-ends_at": "2025-10-22T09:00",
        },
    )
    assert bad.status_code == 400 and b"govuk-error-summary" in bad.content
    assert rota.overrides.count() == 0


@time_machine.travel(NOW, tick=False)
def test_swap_is_accepted_from_the_home_page_by_the_colleague_only():
    boss, a, b = supervisor(), technician(), technician()
    rota = rota_with(boss, [a, b])
    start = dt.datetime(2025, 10, 21, 9, tzinfo=ZoneInfo("Europe/London"))  # a's day (odd index)
    owner = a if rota and services.selectors.on_call_now(rota, start) == a else b
    other = b if owner == a else a
    swap = services.request_swap(
        owner, rota.pk, counterpart=other, starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    home = force_sign_in(Client(), other).get("/operations/rota/")
    assert b"Accept swap" in home.content
    force_sign_in(Client(), owner).post(
        f"/operations/rota/swaps/{swap.pk}/", {"decision": "accept"}
    )
    swap.refresh_from_db()
    assert swap.status == "requested"
    force_sign_in(Client(), other).post(
        f"/operations/rota/swaps/{swap.pk}/", {"decision": "accept"}
    )
    swap.refresh_from_db()
    assert swap.status == "accepted"


@time_machine.travel(NOW, tick=False)
def test_allowance_csv_and_welfare_work_form_flags_without_blocking():
    boss, tech = supervisor(), technician()
    rota_with(boss, [tech])
    client = force_sign_in(Client(), boss)
    csv_text = client.get("/operations/rota/allowances/?month=2025-10&format=csv").content.decode()
    assert tech.get_full_name() in csv_text
    me = force_sign_in(Client(), tech)
    response = me.post(
        "/operations/rota/welfare/me/",
        {
            "action": "work",
            "work-person": tech.pk,
            "work-starts_at": "2025-10-20T01:00",
            "work-ends_at": "2025-10-20T09:00",
            "work-break_minutes": "0",
            "work-kind": "shift",
        },
        follow=True,
    )
    assert b"Over 6 hours without a break" in response.content
    bad = me.post(
        "/operations/rota/welfare/me/",
        {
            "action": "work",
            "work-person": tech.pk,
            "work-starts_at": "2025-10-19T09:00",
            "work-ends_at": "2025-10-19T08:00",
            "work-break_minutes": "0",
            "work-kind": "shift",
        },
    )
    assert bad.status_code == 400 and b"after the start" in bad.content


@time_machine.travel(NOW, tick=False)
def test_allowance_csv_neutralises_formula_cells():
    boss, tech = supervisor(), technician()
    rota = rota_with(boss, [tech])
    rota.name = '=HYPERLINK("http://evil.example","Click")'
    rota.save(update_fields=["name"])
    response = force_sign_in(Client(), boss).get(
        "/operations/rota/allowances/?month=2025-10&format=csv"
    )
    assert response["Content-Disposition"] == 'attachment; filename="allowances-2025-10.csv"'
    (row,) = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert row["rota"] == "'" + rota.name
    assert row["person"] == tech.get_full_name() and float(row["days on call"]) > 0


def test_revoking_the_feed_address_is_confirmed_first():
    tech = technician()
    _, secret = services.issue_feed_token(tech)
    client = force_sign_in(Client(), tech)
    asked = client.post("/operations/rota/calendar-feed/", {"action": "revoke"})
    assert asked.status_code == 200
    assert "Revoke your calendar feed address?" in asked.content.decode()
    assert Client().get(f"/api/rota/feeds/{secret}.ics").status_code == 200  # still works
    done = client.post("/operations/rota/calendar-feed/", {"action": "revoke", "confirmed": "yes"})
    assert done.status_code == 302
    assert Client().get(f"/api/rota/feeds/{secret}.ics").status_code == 404

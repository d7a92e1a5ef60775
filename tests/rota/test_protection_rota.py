"""On-call rotas for protection staff (issue 20, item 8): a rota belongs to one staff group.
Protection managers create and edit protection rotas under /protection/rota/ and
/api/protection/rotas; only protection staff may be put on them; a rota of one group is not
found (404) by the other group's people, both ways; protection welfare counts their shifts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from haven.rota import selectors, services
from haven.rota.demo import PROTECTION_ROTA, create_demo_protection_rota
from haven.rota.models import LayerMember, Rota, Rotation
from haven.rota.staff import OPERATIONS, PROTECTION
from tests.factories import token_client as api
from tests.factories import web_client as web

pytestmark = pytest.mark.django_db


def protection_rota(manager, people, name="Duty officer rota"):  # type: ignore[no-untyped-def]
    # Eight days back: a whole week on call has passed whatever the time of day (the first
    # shift starts at the 09:00 handover; from seven days back, before 09:00 it was 6 d 15 h+).
    rota = services.create_rota(
        manager, name=name, starts_on=timezone.localdate() - dt.timedelta(days=8), group=PROTECTION
    )
    services.add_layer(
        manager,
        rota.pk,
        name="Primary",
        members=people,
        handover_time=dt.time(9),
        rotation=Rotation.DAILY,
        group=PROTECTION,
    )
    return rota


def operations_rota(boss, people):  # type: ignore[no-untyped-def]
    rota = services.create_rota(
        boss, name="Technical on call", starts_on=timezone.localdate() - dt.timedelta(days=7)
    )
    services.add_layer(boss, rota.pk, name="Primary", members=people, handover_time=dt.time(9))
    return rota


# ------------------------------------------------------------------------------ web


def test_a_protection_manager_creates_a_rota_and_adds_a_member_on_the_web(manager, officer):
    client = web(manager)
    page = client.get("/protection/rota/")
    assert page.status_code == 200 and b"New rota" in page.content
    answer = client.post(
        "/protection/rota/new/",
        {"name": "Weekend duty", "time_zone": "Europe/London", "starts_on": "2030-01-01"},
    )
    rota = Rota.objects.get(name="Weekend duty")
    assert rota.group == PROTECTION.code
    assert answer.status_code == 302 and answer["Location"] == f"/protection/rota/{rota.pk}/"
    added = client.post(
        f"/protection/rota/{rota.pk}/",
        {
            "action": "layer",
            "layer-name": "Primary",
            "layer-priority": "1",
            "layer-rotation": "weekly",
            "layer-handover_time": "09:00",
            "layer-members": [str(officer.pk)],
        },
    )
    assert added.status_code == 302 and added["Location"] == f"/protection/rota/{rota.pk}/"
    assert list(LayerMember.objects.filter(layer__rota=rota).values_list("user", flat=True)) == [
        officer.pk
    ]
    detail = client.get(f"/protection/rota/{rota.pk}/")
    assert detail.status_code == 200 and officer.get_full_name().encode() in detail.content


def test_a_protection_officer_cannot_create_or_change_a_rota(manager, officer, colleague):
    rota = protection_rota(manager, [officer])
    client = web(officer)
    assert client.get("/protection/rota/").status_code == 200
    assert client.get("/protection/rota/new/").status_code == 403  # as operations refuses
    assert b"New rota" not in client.get("/protection/rota/").content
    refused = client.post(
        f"/protection/rota/{rota.pk}/",
        {
            "action": "layer",
            "layer-name": "Second",
            "layer-priority": "1",
            "layer-rotation": "weekly",
            "layer-handover_time": "09:00",
            "layer-members": [str(colleague.pk)],
        },
    )
    assert refused.status_code == 400 and b"Only protection managers change the rota" in (
        refused.content
    )
    assert rota.layers.count() == 1
    with pytest.raises(PermissionDenied):
        services.create_rota(officer, name="Mine", starts_on=dt.date(2030, 1, 1), group=PROTECTION)


def test_a_technical_officer_is_not_offered_nor_added_to_a_protection_rota(manager, officer, tech):
    rota = protection_rota(manager, [officer])
    client = web(manager)
    page = client.get(f"/protection/rota/{rota.pk}/")
    assert tech.get_full_name().encode() not in page.content
    refused = client.post(
        f"/protection/rota/{rota.pk}/",
        {
            "action": "layer",
            "layer-name": "Technical",
            "layer-priority": "1",
            "layer-rotation": "weekly",
            "layer-handover_time": "09:00",
            "layer-members": [str(tech.pk)],
        },
    )
    assert refused.status_code == 400 and b"govuk-error-summary" in refused.content
    with pytest.raises(ValidationError) as error:
        services.add_layer(
            manager,
            rota.pk,
            name="Technical",
            members=[tech],
            handover_time=dt.time(9),
            group=PROTECTION,
        )
    assert error.value.message_dict == {"members": ["Choose a protection officer or manager"]}
    assert not rota.layers.filter(name="Technical").exists()


def test_each_groups_rotas_are_not_found_by_the_other_group(manager, officer, tech, boss):
    theirs = protection_rota(manager, [officer])
    ours = operations_rota(boss, [tech])
    for user in (tech, boss):
        client = web(user)
        assert client.get(f"/operations/rota/{theirs.pk}/").status_code == 404
        assert client.get(f"/protection/rota/{theirs.pk}/").status_code == 404
        assert client.get(f"/operations/rota/{ours.pk}/").status_code == 200
        assert theirs.name.encode() not in client.get("/operations/rota/").content
        assert api(user).get(f"/api/rotas/{theirs.pk}/schedule").status_code == 404
        assert theirs.name not in str(api(user).get("/api/rotas").json())
    for user in (officer, manager):
        client = web(user)
        assert client.get(f"/protection/rota/{ours.pk}/").status_code == 404
        assert client.get(f"/operations/rota/{ours.pk}/").status_code == 404
        assert client.get(f"/protection/rota/{theirs.pk}/").status_code == 200
        assert ours.name.encode() not in client.get("/protection/rota/").content
        assert api(user).get(f"/api/protection/rotas/{ours.pk}/schedule").status_code == 404
        assert api(user).get(f"/api/protection/rotas/{theirs.pk}/schedule").status_code == 200
    with pytest.raises(selectors.RotaNotFound):
        selectors.get_rota(boss, theirs.pk, OPERATIONS)
    with pytest.raises(selectors.RotaNotFound):
        selectors.get_rota(manager, ours.pk, PROTECTION)


def test_who_is_on_call_now_shows_the_groups_own_rotas(manager, officer, tech, boss):
    theirs = protection_rota(manager, [officer])
    operations_rota(boss, [tech])
    page = web(officer).get("/protection/rota/on-call/")
    assert page.status_code == 200
    assert theirs.name.encode() in page.content and b"Technical on call" not in page.content
    assert officer.get_full_name().encode() in page.content
    rows = api(officer).get("/api/protection/on-call").json()
    assert [(row["rota"], row["username"]) for row in rows] == [(theirs.name, officer.username)]


def test_home_offers_protection_staff_on_call_and_managers_rotas(manager, officer):
    officer_home = web(officer).get("/").content
    assert b"/protection/rota/on-call/" in officer_home
    assert b'href="/protection/rota/"' not in officer_home
    manager_home = web(manager).get("/").content
    assert b'href="/protection/rota/"' in manager_home


# ------------------------------------------------------------------------------ API


def test_a_protection_manager_creates_a_rota_and_a_layer_through_the_api(manager, officer, tech):
    client = api(manager)
    made = client.post(
        "/api/protection/rotas",
        {"name": "API duty", "starts_on": "2030-01-01"},
        content_type="application/json",
    )
    assert made.status_code == 201
    rota = Rota.objects.get(pk=made.json()["id"])
    assert rota.group == PROTECTION.code
    layer = client.post(
        f"/api/protection/rotas/{rota.pk}/layers",
        {"name": "Primary", "usernames": [officer.username], "handover_time": "09:00"},
        content_type="application/json",
    )
    assert layer.status_code == 201
    assert rota.layers.get().members.get().user == officer
    technical = client.post(
        f"/api/protection/rotas/{rota.pk}/layers",
        {"name": "Second", "usernames": [tech.username], "handover_time": "09:00"},
        content_type="application/json",
    )
    assert technical.status_code == 422
    assert "Choose a protection officer or manager" in technical.json()["title"]
    assert technical["Content-Type"].startswith("application/problem+json")
    assert rota.layers.count() == 1


def test_a_protection_officer_cannot_create_a_rota_through_the_api(officer, boss, tech):
    refused = api(officer).post(
        "/api/protection/rotas",
        {"name": "Officer's own", "starts_on": "2030-01-01"},
        content_type="application/json",
    )
    operations_refused = api(tech).post(
        "/api/rotas",
        {"name": "Technician's own", "starts_on": "2030-01-01"},
        content_type="application/json",
    )
    assert refused.status_code == operations_refused.status_code == 403
    assert not Rota.objects.exists()
    # and an operations supervisor is not let into the protection API at all
    assert (
        api(boss)
        .post(
            "/api/protection/rotas",
            {"name": "Boss's", "starts_on": "2030-01-01"},
            content_type="application/json",
        )
        .status_code
        == 404
    )


def test_a_protection_swap_is_asked_and_accepted_within_the_group(manager, officer, colleague):
    rota = protection_rota(manager, [officer, colleague])
    at = timezone.now() + dt.timedelta(days=1)
    # A whole shift of the officer's: one starting after the window opens (the first is cut
    # at the window's start; between 07:00 and 09:00 its two hours ran past the handover).
    mine = next(
        s
        for s in selectors.resolve(rota, at, at + dt.timedelta(days=4))
        if s.user == officer and s.starts_at > at
    )
    asked = api(officer).post(
        f"/api/protection/rotas/{rota.pk}/swaps",
        {
            "counterpart": colleague.username,
            "starts_at": mine.starts_at.isoformat(),
            "ends_at": (mine.starts_at + dt.timedelta(hours=2)).isoformat(),
        },
        content_type="application/json",
    )
    assert asked.status_code == 201
    swap_id = asked.json()["id"]
    home = web(colleague).get("/").content.decode()
    assert 'href="/protection/rota/">Shift swaps to answer' in home
    assert "Shift swaps to answer" not in web(manager).get("/").content.decode()
    assert api(officer).post(f"/api/swaps/{swap_id}/accept").status_code == 404
    accepted = api(colleague).post(f"/api/protection/swaps/{swap_id}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert selectors.on_call_now(rota, mine.starts_at + dt.timedelta(minutes=1)) == colleague


# ------------------------------------------------------------------------------ welfare


def test_protection_welfare_counts_protection_rota_shifts(manager, officer):
    before = selectors.person_welfare(manager, officer.pk, group=PROTECTION)
    assert before.assessment.on_call_hours == 0
    protection_rota(manager, [officer])  # a daily rota of one: on call all week
    after = selectors.person_welfare(manager, officer.pk, group=PROTECTION)
    assert after.assessment.on_call_hours >= 7 * 24 - 1
    page = web(manager).get(f"/protection/welfare/{officer.pk}/")
    assert page.status_code == 200


def test_a_protection_rota_is_never_a_device_alert_rota(manager, officer, boss, tech):
    protection_rota(manager, [officer])
    operations_rota(boss, [tech])
    assert selectors.rota_names() == ["Technical on call"]
    assert selectors.find_rota("Duty officer rota") is None


def test_the_demo_protection_rota_holds_the_demo_officers_and_can_run_twice(manager, officer):
    rota = create_demo_protection_rota(manager, [officer])
    assert rota is not None and rota.group == PROTECTION.code and rota.name == PROTECTION_ROTA
    assert [m.user for m in rota.layers.get().members.all()] == [officer]
    assert create_demo_protection_rota(manager, [officer]) is None
    assert Rota.objects.filter(name=PROTECTION_ROTA).count() == 1


def test_a_protection_officers_calendar_feed_shows_their_protection_shifts(manager, officer):
    rota = protection_rota(manager, [officer])
    issued = api(officer).post("/api/protection/rota/feed")
    assert issued.status_code == 201
    path = issued.json()["url"].split("testserver", 1)[1]
    calendar = Client().get(path)
    assert calendar.status_code == 200 and rota.name in calendar.content.decode()
    page = web(officer).get("/protection/rota/calendar-feed/")
    assert page.status_code == 200 and b"You have a feed address" in page.content
    assert api(officer).delete("/api/protection/rota/feed").status_code == 204
    assert Client().get(path).status_code == 404

"""The rota API's overrides and swaps: who covers is named by username, times without an offset
are read in the rota's own zone, and bad input is a 422 that changes nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from haven.accounts import services as account_services
from haven.rota import services
from haven.rota.models import ShiftSwap
from tests.equipment.helpers import supervisor, technician

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")


def api(user) -> Client:  # type: ignore[no-untyped-def]
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def new_york_rota(boss, people):  # type: ignore[no-untyped-def]
    rota = services.create_rota(
        boss, name="Night desk", starts_on=dt.date(2030, 1, 1), time_zone="America/New_York"
    )
    services.add_layer(boss, rota.pk, name="Primary", members=people, handover_time=dt.time(9))
    return rota


SPAN = {"starts_at": "2030-01-05T09:00:00", "ends_at": "2030-01-05T17:00:00"}


def test_an_override_names_who_covers_and_reads_its_times_in_the_rota_zone():
    boss, cover = supervisor(), technician()
    rota = new_york_rota(boss, [technician()])
    answer = api(boss).post(
        f"/api/rotas/{rota.pk}/overrides",
        {**SPAN, "username": cover.username, "reason": "sickness"},
        content_type="application/json",
    )
    assert answer.status_code == 201
    override = rota.overrides.get(pk=answer.json()["id"])
    assert override.user == cover and override.reason == "sickness"
    assert override.starts_at == dt.datetime(2030, 1, 5, 9, tzinfo=NEW_YORK)


def test_an_override_without_a_cover_or_ending_before_it_starts_is_refused():
    boss = supervisor()
    rota = new_york_rota(boss, [technician()])
    client = api(boss)
    nobody = client.post(
        f"/api/rotas/{rota.pk}/overrides",
        {**SPAN, "username": "", "reason": "sickness"},
        content_type="application/json",
    )
    assert nobody.status_code == 422 and "username: say who covers" in nobody.json()["title"]
    backwards = client.post(
        f"/api/rotas/{rota.pk}/overrides",
        {
            "starts_at": SPAN["ends_at"],
            "ends_at": SPAN["starts_at"],
            "username": technician().username,
            "reason": "sickness",
        },
        content_type="application/json",
    )
    assert backwards.status_code == 422
    assert not rota.overrides.exists()


def test_an_officer_cannot_add_an_override_but_can_ask_a_colleague_to_swap():
    boss, officer, colleague = supervisor(), technician(), technician()
    rota = new_york_rota(boss, [officer, colleague])
    client = api(officer)
    refused = client.post(
        f"/api/rotas/{rota.pk}/overrides",
        {**SPAN, "username": colleague.username, "reason": "mine"},
        content_type="application/json",
    )
    assert refused.status_code == 403 and not rota.overrides.exists()
    unknown = client.post(
        f"/api/rotas/{rota.pk}/swaps",
        {**SPAN, "counterpart": "no-such-person"},
        content_type="application/json",
    )
    assert unknown.status_code == 422 and "counterpart" in unknown.json()["title"]
    assert not ShiftSwap.objects.exists()
    asked = client.post(
        f"/api/rotas/{rota.pk}/swaps",
        {**SPAN, "counterpart": colleague.username},
        content_type="application/json",
    )
    assert asked.status_code == 201
    swap = ShiftSwap.objects.get()
    assert swap.counterpart == colleague
    assert swap.starts_at == dt.datetime(2030, 1, 5, 9, tzinfo=NEW_YORK)

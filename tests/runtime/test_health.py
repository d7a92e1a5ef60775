"""/healthz, `haven status` and the administrators' banner."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from haven.accounts.roles import Role
from haven.runtime.heartbeat import beat
from haven.runtime.models import Heartbeat
from tests.factories import UserFactory, make_case

from .factories import HeartbeatFactory, every_expected_part_beats

DISTINCTIVE_NAME = "Zebedee Quillfeather"


@pytest.fixture(autouse=True)
def no_cached_health():
    cache.clear()  # the banner caches the lookup for a few seconds


@pytest.mark.django_db
def test_healthz_is_200_when_every_part_is_fresh_and_reachable_anonymously():
    every_expected_part_beats(seconds_ago=5)
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: part["state"] for name, part in body["parts"].items()} == {
        "web": "up",
        "worker": "up",
        "scheduler": "up",
        "osmand": "up",
        "teltonika": "up",
    }
    assert body["queue_depth"] == 0
    assert set(body["ledger"]) == {
        "oldest_unsigned_age_seconds",
        "last_checkpoint_at",
        "last_checkpoint_tree_size",
    }


@pytest.mark.django_db
def test_healthz_is_503_naming_the_stale_and_the_missing_part(settings):
    settings.HAVEN_HEARTBEAT_STALE_SECONDS = 60
    every_expected_part_beats(seconds_ago=5)
    Heartbeat.objects.filter(part="worker").delete()
    HeartbeatFactory(part="worker", beat_at=Heartbeat.objects.first().beat_at.replace(year=2020))
    Heartbeat.objects.filter(part="osmand").delete()
    response = Client().get("/healthz")
    assert response.status_code == 503
    parts = response.json()["parts"]
    assert parts["worker"]["state"] == "stale" and parts["osmand"]["state"] == "missing"
    assert parts["web"]["state"] == "up"


@pytest.mark.django_db
def test_healthz_reports_the_unsigned_ledger_tail_but_no_personal_data():
    lead = UserFactory(roles=[Role.PROTECTION_OFFICER], username="lead-officer")
    case = make_case(lead, name=DISTINCTIVE_NAME)  # writes ledger entries, none signed
    beat("web")
    body = Client().get("/healthz").content.decode()
    assert '"oldest_unsigned_age_seconds": null' not in body
    for secret in (DISTINCTIVE_NAME, "Zebedee", "lead-officer", case.reference, str(case.pk)):
        assert secret not in body


@pytest.mark.django_db
def test_status_exits_zero_when_all_parts_are_up_and_one_when_a_part_is_down():
    every_expected_part_beats(seconds_ago=1)
    out = io.StringIO()
    call_command("status", stdout=out)
    assert "scheduler" in out.getvalue() and "queue depth: 0" in out.getvalue()
    Heartbeat.objects.filter(part="scheduler").delete()
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("status", stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert "down: scheduler" in err.getvalue()


@pytest.mark.django_db
def test_administrators_see_a_banner_naming_the_down_part(signed_in):
    every_expected_part_beats(seconds_ago=1)
    Heartbeat.objects.filter(part="worker").delete()
    page = signed_in(Role.ADMINISTRATOR).get("/").content.decode()
    assert "Part of Haven is down: worker" in page


@pytest.mark.django_db
def test_officers_never_see_the_banner(signed_in):
    Heartbeat.objects.all().delete()  # everything is down
    page = signed_in(Role.PROTECTION_OFFICER).get("/").content.decode()
    assert "Part of Haven is down" not in page

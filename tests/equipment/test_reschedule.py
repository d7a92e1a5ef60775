"""Changing an open deployment's dates, on its page and through the API: offered to its
supervising officer only, refused (with nothing changed) when the period is wrong or would put
a team member or an asset on two deployments at once, and kept by a finished deployment."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from haven.accounts import services as account_services
from haven.audit.models import Action, LedgerEntry
from haven.equipment import services
from haven.equipment.models import Deployment, DeploymentStatus, TeamPlace
from tests.equipment.helpers import make_deployment, supervisor, technician
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db

LOCAL = "%Y-%m-%dT%H:%M"


def page(deployment: Deployment) -> str:
    return f"/operations/deployments/{deployment.pk}/"


def new_period(deployment: Deployment, days: int = 10) -> tuple:
    starts = timezone.localtime(deployment.starts_at + timedelta(days=days)).replace(second=0)
    return starts.replace(microsecond=0), starts.replace(microsecond=0) + timedelta(days=1)


def schedule_post(starts, ends) -> dict[str, str]:
    return {
        "action": "schedule",
        "schedule-starts_at": starts.strftime(LOCAL),
        "schedule-ends_at": ends.strftime(LOCAL),
    }


def test_the_supervisor_changes_the_dates_on_the_deployment_page():
    boss = supervisor()
    deployment = make_deployment(boss)
    client = force_sign_in(Client(), boss)
    shown = client.get(page(deployment)).content.decode()
    assert "Change dates" in shown
    current = timezone.localtime(deployment.starts_at).strftime(LOCAL)
    assert f'value="{current}"' in shown  # offered with the period it has now
    starts, ends = new_period(deployment)
    response = client.post(page(deployment), schedule_post(starts, ends))
    assert response.status_code == 302
    deployment.refresh_from_db()
    assert (deployment.starts_at, deployment.ends_at) == (starts, ends)
    entries = LedgerEntry.objects.filter(action=Action.ALTERATION, object_id=str(deployment.pk))
    moved = [entry for entry in entries if entry.fields == ["ends_at", "starts_at"]]
    assert [entry.actor_username for entry in moved] == [boss.username]


def test_an_end_before_the_start_is_shown_on_the_form_and_changes_nothing():
    boss = supervisor()
    deployment = make_deployment(boss)
    before = (deployment.starts_at, deployment.ends_at)
    starts, ends = new_period(deployment)
    response = force_sign_in(Client(), boss).post(page(deployment), schedule_post(ends, starts))
    assert response.status_code == 400
    assert "The deployment must end after it starts" in response.content.decode()
    deployment.refresh_from_db()
    assert (deployment.starts_at, deployment.ends_at) == before


def test_a_period_that_double_books_a_technician_is_refused():
    boss, tech = supervisor(), technician()
    first = make_deployment(boss, title="First")
    services.add_team_member(boss, first.pk, tech, TeamPlace.TECHNICIAN)
    later = make_deployment(boss, title="Later", start=first.starts_at + timedelta(days=10))
    services.add_team_member(boss, later.pk, tech, TeamPlace.TECHNICIAN)
    client = force_sign_in(Client(), boss)
    response = client.post(page(first), schedule_post(*new_period(first, days=10)))
    assert response.status_code == 400
    assert f"is already on {later.reference} then" in response.content.decode()
    before = first.starts_at
    first.refresh_from_db()
    assert first.starts_at == before


def test_a_technician_on_the_team_is_not_offered_the_dates_and_cannot_post_them():
    boss, tech = supervisor(), technician()
    deployment = make_deployment(boss)
    services.add_team_member(boss, deployment.pk, tech, TeamPlace.LEAD)
    client = force_sign_in(Client(), tech)
    assert "Change dates" not in client.get(page(deployment)).content.decode()
    before = deployment.starts_at
    response = client.post(page(deployment), schedule_post(*new_period(deployment)))
    assert "Only the deployment&#x27;s supervising officer can do this" in (
        response.content.decode()
    )
    deployment.refresh_from_db()
    assert deployment.starts_at == before


def test_a_finished_deployment_keeps_its_dates():
    boss = supervisor()
    deployment = make_deployment(boss)
    services.set_status(boss, deployment.pk, DeploymentStatus.CANCELLED, "Not needed")
    client = force_sign_in(Client(), boss)
    assert "Change dates" not in client.get(page(deployment)).content.decode()
    response = client.post(page(deployment), schedule_post(*new_period(deployment)))
    assert response.status_code == 400
    assert "A cancelled deployment keeps its dates" in response.content.decode()


def test_the_api_changes_the_dates_and_refuses_a_wrong_period_as_problem_json():
    boss = supervisor()
    deployment = make_deployment(boss)
    _, secret = account_services.issue_api_token(boss, "t", modules=boss.modules, can_write=True)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management")
    url = f"/api/equipment/deployments/{deployment.pk}/schedule"
    starts, ends = new_period(deployment)
    wrong = client.post(
        url,
        json.dumps({"starts_at": ends.isoformat(), "ends_at": starts.isoformat()}),
        content_type="application/json",
    )
    assert wrong.status_code == 422 and wrong["Content-Type"] == "application/problem+json"
    deployment.refresh_from_db()
    assert deployment.ends_at != ends
    done = client.post(
        url,
        json.dumps({"starts_at": starts.isoformat(), "ends_at": ends.isoformat()}),
        content_type="application/json",
    )
    assert done.status_code == 200
    assert datetime.fromisoformat(done.json()["starts_at"]) == starts
    deployment.refresh_from_db()
    assert (deployment.starts_at, deployment.ends_at) == (starts, ends)

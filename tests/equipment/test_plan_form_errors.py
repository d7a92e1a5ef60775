"""All of a plan's mistakes in one error summary on the first submit (issue 20, item 6)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from haven.equipment.models import Deployment
from tests.equipment.helpers import make_deployment, supervisor
from tests.equipment.test_case_reference import PLAN
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db


def test_an_end_before_the_start_is_shown_with_the_other_errors_at_once():
    client = force_sign_in(Client(), supervisor())
    response = client.post(
        "/operations/deployments/new/",
        {**PLAN, "title": "", "starts_at": "2030-01-02T09:00", "ends_at": "2030-01-01T09:00"},
    )
    html = response.content.decode()
    assert '<a href="#id_title">' in html
    assert '<a href="#id_ends_at">The deployment must end after it starts</a>' in html
    assert not Deployment.objects.exists()


def test_a_plan_that_ends_after_it_starts_is_saved():
    client = force_sign_in(Client(), supervisor())
    response = client.post("/operations/deployments/new/", PLAN)
    assert response.status_code == 302 and Deployment.objects.count() == 1


def test_cancelling_a_deployment_is_confirmed_on_its_own_page_first():
    boss = supervisor()
    deployment = make_deployment(boss)
    client = force_sign_in(Client(), boss)
    url = f"/operations/deployments/{deployment.pk}/"
    asked = client.post(url, {"action": "status", "status-status": "cancelled"})
    html = asked.content.decode()
    assert asked.status_code == 200 and f"Cancel deployment {deployment.reference}?" in html
    deployment.refresh_from_db()
    assert deployment.status == "planned"
    done = client.post(url, {"action": "status", "status-status": "cancelled", "confirmed": "yes"})
    assert done.status_code == 302
    deployment.refresh_from_db()
    assert deployment.status == "cancelled"


def test_the_plan_form_offers_its_default_dates_as_a_browser_reads_them():
    """A datetime-local box takes "2026-12-08T09:00"; a datetime printed as prose ("8 Dec
    2026, 9 a.m.") is no value to a browser, which showed both boxes empty."""
    html = force_sign_in(Client(), supervisor()).get("/operations/deployments/new/").content
    values = re.findall(rb'name="(starts_at|ends_at)" type="datetime-local" value="([^"]*)"', html)
    assert [name for name, _ in values] == [b"starts_at", b"ends_at"]
    assert all(re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d", value) for _, value in values)

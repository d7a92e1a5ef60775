"""Dates at the ends of the calendar are refused as input, never a server error (issue 18
item 9: `calendar?start=9999-12-31` answered 500)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.equipment.helpers import supervisor
from tests.factories import force_sign_in, issue_token

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01"])
def test_api_calendar_refuses_a_start_at_the_end_of_time_with_422_naming_it(start):
    _, secret = issue_token(supervisor())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.get("/api/equipment/calendar", {"start": start})
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["location"] for e in response.json()["errors"]] == ["query.start"]


def test_api_calendar_still_answers_a_real_date():
    _, secret = issue_token(supervisor())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/equipment/calendar", {"start": "2026-01-05"}).status_code == 200


def test_web_calendar_shows_a_field_error_for_a_start_at_the_end_of_time():
    client = force_sign_in(Client(), supervisor())
    response = client.get("/operations/calendar/", {"start": "9999-12-31"})
    assert response.status_code == 200
    assert 'id="id_start-error"' in response.content.decode()

"""Unacknowledged alerts wait for the people paged and for supervisors: Home counts them in red
until someone acknowledges; an officer who was not paged has nothing waiting."""

from __future__ import annotations

import pytest

from haven.accounts.roles import Role
from haven.telemetry import selectors, services
from tests.factories import UserFactory, force_sign_in

from .helpers import make_device, make_rota, message

pytestmark = pytest.mark.django_db


def test_an_open_alert_waits_for_the_person_paged_until_acknowledged(client):
    paged, spare = (
        UserFactory(roles=[Role.TECHNICAL_OFFICER]),
        UserFactory(roles=[Role.TECHNICAL_OFFICER]),
    )
    rota_name, boss = make_rota(paged)
    [alert] = services.ingest(message(make_device(rota_name=rota_name), alarms=("sos",))).alerts

    assert [a.pk for a in selectors.alerts_awaiting(paged)] == [alert.pk]
    assert [a.pk for a in selectors.alerts_awaiting(boss)] == [alert.pk]
    assert selectors.alerts_awaiting(spare) == []
    assert selectors.alerts_awaiting(UserFactory(roles=[Role.PROTECTION_MANAGER])) == []
    body = force_sign_in(client, paged).get("/").content.decode()
    assert "Alerts to acknowledge" in body
    assert 'govuk-tag--red" data-testid="overdue">1 unacknowledged' in body

    services.acknowledge(paged, alert.pk)
    assert selectors.alerts_awaiting(paged) == [] and selectors.alerts_awaiting(boss) == []
    assert "Nothing is waiting for you." in client.get("/").content.decode()

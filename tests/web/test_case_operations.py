"""The case hub's "Deployments and alarms" tab: the case team sees the deployments protecting
the case and its person's alarms, never the plan itself, nothing above their clearance, and
nobody outside the team sees the tab (issue 20 item 1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from haven.accounts.roles import Clearance, Role, VettingLevel
from haven.audit.models import Action, LedgerEntry
from haven.equipment import services as equipment_services
from haven.telemetry import services as telemetry_services
from haven.telemetry.models import TelemetryDevice
from tests.cases.test_casework import web
from tests.equipment.helpers import make_asset, make_deployment, supervisor
from tests.factories import UserFactory, make_case
from tests.telemetry.helpers import message

pytestmark = pytest.mark.django_db


def test_the_case_team_sees_deployments_and_alarms_but_not_the_plan(client):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    case = make_case(officer)
    boss = supervisor(clearance=Clearance.TOP_SECRET)
    start = timezone.now() - dt.timedelta(hours=1)
    live = make_deployment(boss, start=start, case_id=case.reference, install_address="9 Hide St")
    above = make_deployment(boss, case_id=case.pk, classification=Clearance.TOP_SECRET)
    asset = make_asset(boss, type_code="panic-button", device_id="alarm-hub-1")
    equipment_services.assign_asset(boss, live.pk, asset)
    device = TelemetryDevice.objects.get(device_id="alarm-hub-1")
    telemetry_services.ingest(message(device, alarms=("sos",)))

    web(client, officer)
    before = LedgerEntry.objects.filter(action=Action.CONSULTATION).count()
    body = client.get(f"/cases/{case.pk}/deployments-and-alarms/").content.decode()
    assert live.reference in body and above.reference not in body and "9 Hide St" not in body
    assert 'data-testid="case-alarms"' in body and 'aria-current="page"' in body
    assert LedgerEntry.objects.filter(action=Action.CONSULTATION).count() == before + 1
    assert (
        f'href="/cases/{case.pk}/deployments-and-alarms/"'
        in client.get(f"/cases/{case.pk}/").content.decode()
    )

    web(client, UserFactory(roles=[Role.PROTECTION_OFFICER]))
    assert client.get(f"/cases/{case.pk}/deployments-and-alarms/").status_code == 404


def test_a_deployment_above_what_the_vetting_supports_is_not_listed(client):
    # Cleared to TOP SECRET on paper, but SC vetting supports SECRET at most (issue 18 item 6).
    officer = UserFactory(
        roles=[Role.PROTECTION_OFFICER],
        clearance=Clearance.TOP_SECRET,
        vetting_level=VettingLevel.SC,
    )
    case = make_case(officer)
    boss = supervisor(clearance=Clearance.TOP_SECRET)
    secret = make_deployment(boss, case_id=case.pk, classification=Clearance.SECRET)
    above = make_deployment(boss, case_id=case.pk, classification=Clearance.TOP_SECRET)

    web(client, officer)
    body = client.get(f"/cases/{case.pk}/deployments-and-alarms/").content.decode()
    assert secret.reference in body and above.reference not in body

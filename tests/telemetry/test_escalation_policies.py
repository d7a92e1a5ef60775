"""Escalation policies: steps page in order, on time, repeat until acknowledged, never on a
rota's layers alone; a protected person's alarm also tells the case team; only technical
supervisors manage policies."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from haven.access.models import TeamMembership
from haven.accounts.roles import Role
from haven.notifications.models import Notification
from haven.telemetry import services
from haven.telemetry.models import AlertStatus, TargetKind, TelemetryDevice
from tests.equipment.helpers import make_asset, make_deployment
from tests.factories import UserFactory, force_sign_in

from .helpers import make_device, make_rota, message

pytestmark = pytest.mark.django_db


def pages(user) -> int:  # type: ignore[no-untyped-def]
    return Notification.objects.filter(user=user, category="telemetry").count()


def two_step_policy(rota_name: str, step_two, boss, repeat: int = 1):  # type: ignore[no-untyped-def]
    policy = services.create_policy(boss, name="Two steps", repeat=repeat, is_default=True)
    services.add_step(
        boss,
        policy.pk,
        delay_seconds=300,
        targets=[services.TargetSpec(TargetKind.ON_CALL, rota_name=rota_name)],
    )
    services.add_step(
        boss,
        policy.pk,
        delay_seconds=600,
        targets=[services.TargetSpec(TargetKind.USER, user_id=step_two.pk)],
    )
    return policy


def test_a_one_layer_rota_escalates_through_the_policy_and_repeats_until_the_end():
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    backup = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, boss = make_rota(officer)
    two_step_policy(rota_name, backup, boss, repeat=1)
    [alert] = services.ingest(message(make_device(rota_name=rota_name), alarms=("sos",))).alerts
    assert (pages(officer), pages(backup)) == (1, 0)  # step 1 at once
    start = alert.raised_at

    with time_machine.travel(start + dt.timedelta(seconds=299), tick=False):
        assert services.escalate_due() == []  # not before the step's delay
    with time_machine.travel(start + dt.timedelta(seconds=301), tick=False):
        [alert] = services.escalate_due()
    assert (pages(officer), pages(backup)) == (1, 1)
    assert "step 2" in alert.routing
    assert alert.escalate_at == start + dt.timedelta(seconds=301 + 600)
    with time_machine.travel(start + dt.timedelta(seconds=902), tick=False):
        [alert] = services.escalate_due()  # round 2, step 1 again
    assert (pages(officer), pages(backup)) == (2, 1) and "round 2 of 2" in alert.routing
    with time_machine.travel(start + dt.timedelta(seconds=1203), tick=False):
        [alert] = services.escalate_due()
    assert (pages(officer), pages(backup)) == (2, 2)
    assert alert.escalate_at is None  # the ladder and its repeat are done


def test_acknowledging_stops_the_paging():
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    backup = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, boss = make_rota(officer)
    two_step_policy(rota_name, backup, boss)
    [alert] = services.ingest(message(make_device(rota_name=rota_name), alarms=("sos",))).alerts
    services.acknowledge(officer, alert.pk)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1), tick=False):
        assert services.escalate_due() == []
    assert pages(backup) == 0


def test_resolving_closes_an_alert_and_stops_the_paging():
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, boss = make_rota(officer)
    two_step_policy(rota_name, UserFactory(roles=[Role.TECHNICAL_OFFICER]), boss)
    [alert] = services.ingest(message(make_device(rota_name=rota_name), alarms=("sos",))).alerts
    outsider = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    with pytest.raises(services.AlertNotFound):
        services.resolve(outsider, alert.pk)
    alert = services.resolve(officer, alert.pk, "false alarm")
    assert alert.status == AlertStatus.RESOLVED and alert.escalate_at is None
    with pytest.raises(services.ConflictError):
        services.resolve(officer, alert.pk)


def test_a_protected_persons_alarm_pages_on_call_and_tells_the_case_team():
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, boss = make_rota(officer)
    two_step_policy(rota_name, UserFactory(roles=[Role.TECHNICAL_OFFICER]), boss)
    case_id = uuid.uuid4()
    lead = UserFactory(roles=[Role.PROTECTION_OFFICER])
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    other_officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    for person, place in ((lead, "lead"), (manager, "manager"), (other_officer, "officer")):
        TeamMembership.objects.create(
            object_type="case", object_id=case_id, user=person, team_role=place
        )
    asset = make_asset(boss, type_code="panic-button", device_id="alarm-case-1")
    deployment = make_deployment(
        boss, start=timezone.now() - dt.timedelta(hours=1), case_id=case_id
    )
    from haven.equipment import services as equipment_services

    equipment_services.assign_asset(boss, deployment.pk, asset)
    # Registering the asset with a device id made it a tracker; route it to the test's rota.
    device = TelemetryDevice.objects.get(device_id="alarm-case-1", asset_id=asset.pk)
    device.rota_name = rota_name
    device.save(update_fields=["rota_name"])
    [alert] = services.ingest(message(device, alarms=("sos",))).alerts
    assert alert.case_id == case_id and alert.deployment_id == deployment.pk
    assert (pages(officer), pages(lead), pages(manager), pages(other_officer)) == (1, 1, 1, 0)
    told = Notification.objects.get(user=lead)
    assert told.link == f"/cases/{case_id}/"


def test_only_technical_supervisors_manage_policies_and_the_page_shows_only_what_one_may_do():
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    boss = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    with pytest.raises(PermissionDenied):
        services.create_policy(officer, name="Mine")
    policy = services.create_policy(boss, name="Night cover")
    for user, can_manage in ((boss, True), (officer, False)):
        client = Client()
        force_sign_in(client, user)
        home = client.get("/operations/alerts/").content.decode()
        assert "/operations/alerts/policies/" in home  # reachable from the alerts navigation
        page = client.get(f"/operations/alerts/policies/{policy.pk}/").content.decode()
        assert ("Add step" in page) is can_manage
        answer = client.post(
            f"/operations/alerts/policies/{policy.pk}/steps/",
            {"delay_minutes": "5", "supervisors": "on"},
        )
        assert answer.status_code == (302 if can_manage else 403)
    assert policy.steps.count() == 1


def test_a_step_needs_someone_to_page():
    boss = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    policy = services.create_policy(boss, name="Empty")
    with pytest.raises(services.ValidationError):
        services.add_step(boss, policy.pk, delay_seconds=60, targets=[])


def test_editing_a_policy_saves_it_once_and_a_stale_page_changes_nothing():
    boss = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    policy = services.create_policy(boss, name="Night cover")
    client = Client()
    force_sign_in(client, boss)
    url = f"/operations/alerts/policies/{policy.pk}/edit/"
    form = {"name": "Day cover", "description": "", "repeat": "1", "version": str(policy.version)}
    saved = client.post(url, form, follow=True)
    assert saved.redirect_chain == [(f"/operations/alerts/policies/{policy.pk}/", 302)]
    assert "Policy saved" in saved.content.decode()
    policy.refresh_from_db()
    assert (policy.name, policy.repeat) == ("Day cover", 1)

    stale = client.post(url, {**form, "name": "Late cover"})  # the version read before the save
    assert stale.status_code == 200
    assert "changed by someone else" in stale.content.decode()
    policy.refresh_from_db()
    assert policy.name == "Day cover"

"""A technician added to a deployment team is told (category and reference leave the system,
the message stays inside); nobody else is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haven.equipment import services
from haven.equipment.models import TeamPlace
from haven.notifications.models import AlertCategory, Notification
from tests.equipment.helpers import make_deployment, supervisor, technician

pytestmark = pytest.mark.django_db


def test_the_person_added_to_a_deployment_team_is_notified():
    boss, tech, spare = supervisor(), technician(), technician()
    deployment = make_deployment(boss, start=timezone.now() + timedelta(days=2))
    services.add_team_member(boss, deployment.pk, tech, TeamPlace.TECHNICIAN)
    (note,) = Notification.objects.filter(user=tech, category=AlertCategory.ACCESS)
    assert note.reference == deployment.reference and "as technician" in note.message
    assert note.link == f"/operations/deployments/{deployment.pk}/"
    assert not Notification.objects.filter(user__in=[boss, spare]).exists()


def test_the_team_is_told_when_a_deployment_is_moved_and_nobody_else_is():
    boss, tech, spare = supervisor(), technician(), technician()
    deployment = make_deployment(boss, start=timezone.now() + timedelta(days=2))
    services.add_team_member(boss, deployment.pk, tech, TeamPlace.TECHNICIAN)
    starts = timezone.localtime(deployment.starts_at + timedelta(days=7))
    services.reschedule_deployment(
        boss, deployment.pk, starts_at=starts, ends_at=starts + timedelta(days=1)
    )
    (note,) = Notification.objects.filter(user=tech, category=AlertCategory.GENERAL)
    assert note.reference == deployment.reference
    assert f"to {starts:%-d %b %Y %H:%M}" in note.message
    assert note.link == f"/operations/deployments/{deployment.pk}/"
    assert not Notification.objects.filter(user__in=[boss, spare]).exists()

"""The alert status workflow is a haven.workflow.TransitionTable the services ask."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from haven.accounts.roles import Role
from haven.telemetry import services
from haven.telemetry.models import ALERT_TRANSITIONS, AlertStatus
from haven.workflow import TransitionError, TransitionTable
from tests.factories import UserFactory

from .helpers import make_device, make_rota, message


@pytest.mark.django_db
def test_an_acknowledged_alert_neither_escalates_nor_is_acknowledged_again():
    assert isinstance(ALERT_TRANSITIONS, TransitionTable)
    assert ALERT_TRANSITIONS.targets_from(AlertStatus.ACKNOWLEDGED) == [AlertStatus.RESOLVED]
    with pytest.raises(TransitionError, match="cannot move from 'Acknowledged' to 'Escalated'"):
        ALERT_TRANSITIONS.check(AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED)
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    rota_name, _ = make_rota(officer, UserFactory(roles=[Role.TECHNICAL_OFFICER]))
    [alert] = services.ingest(message(make_device(rota_name=rota_name), alarms=("sos",))).alerts
    services.acknowledge(officer, alert.pk)
    with pytest.raises(services.ConflictError):
        services.acknowledge(officer, alert.pk)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6), tick=False):
        assert services.escalate(alert.pk) is None
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.escalation_level == 0

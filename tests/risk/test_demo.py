from __future__ import annotations

import pytest

from haven.accounts.roles import Role
from haven.risk.demo import create_demo_risk, reset_demo_risk
from haven.risk.models import DecisionLogEntry, RiskAssessment
from tests.factories import UserFactory
from tests.risk.helpers import make_team

pytestmark = pytest.mark.django_db


def test_demo_risk_is_created_and_can_be_reset():
    team = make_team()
    for user, name in ((team.officer, "officer"), (team.manager, "manager"),
                       (team.authoriser, "authoriser")):  # fmt: skip
        user.username = name
        user.save()
    assert create_demo_risk(limit=5) == 1
    assert RiskAssessment.objects.get().is_current and DecisionLogEntry.objects.count() == 1
    other = UserFactory(roles=[Role.PROTECTION_OFFICER])
    assert reset_demo_risk([other]) == 0
    assert reset_demo_risk([team.officer]) > 0
    assert not RiskAssessment.objects.exists() and not DecisionLogEntry.objects.exists()

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from haven.access.models import TeamRole
from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.cases import services as case_services
from haven.risk import services
from haven.risk.models import RiskAssessment
from tests.factories import UserFactory, make_case

OSMAN = {
    "osman_real_immediate": "Credible intelligence of a contract on the witness this month",
    "osman_identified_individual": "The principal witness",
    "osman_third_party": "Organised crime group members awaiting trial",
}
SCORES = {"likelihood": 4, "impact": 5, "residual_likelihood": 2, "residual_impact": 5}


@dataclass
class Team:
    officer: User
    manager: User
    authoriser: User
    outsider: User
    case: Any


def make_team() -> Team:
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    authoriser = UserFactory(roles=[Role.AUTHORISING_OFFICER])
    outsider = UserFactory(roles=[Role.PROTECTION_MANAGER])
    case = make_case(officer, name="Wendy Riskcase")
    case_services.add_member(case, manager, TeamRole.MANAGER)
    case_services.add_member(case, authoriser, TeamRole.AUTHORISING)
    return Team(officer, manager, authoriser, outsider, case)


def draft(team: Team, **extra: Any) -> RiskAssessment:
    data = {**SCORES, "thrive_threat": "Threat narrative Zebedee", **extra}
    return services.start_assessment(team.officer, team.case.pk, **data)


def approved(team: Team, **extra: Any) -> RiskAssessment:
    assessment = draft(team, **extra)
    services.add_threat(
        team.officer, assessment.pk, source="OCG enforcer", likelihood=4, impact=5,
        residual_likelihood=2, residual_impact=4,
    )  # fmt: skip
    services.submit_assessment(team.officer, assessment.pk)
    return services.approve_assessment(team.manager, assessment.pk)

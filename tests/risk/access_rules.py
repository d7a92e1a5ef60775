"""Access rules for the risk module (see tests/access/rules.py). Objects are built on cases of
this module's own, inside and outside the actors' team."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from haven.access.models import TeamRole
from haven.accounts.roles import Module, Role
from haven.cases import services as case_services
from haven.risk import services
from haven.risk.models import MeasureType
from tests.access.rules import Actor, Rule, module, role
from tests.factories import UserFactory, make_case

SECRETS_INSIDE = ["Ursula Insidethreat", "Insideosman Realrisk", "Insidedecision Relocate"]
SECRETS_OUTSIDE = ["Victor Outsidethreat", "Outsideosman Realrisk", "Outsidedecision Relocate"]
DRAFTERS = (Role.PROTECTION_OFFICER, Role.PROTECTION_MANAGER)


def risk_team(actor: Actor, inside: bool) -> bool:
    return actor.user.can_use(Module.PROTECTION) and inside and actor.team_role is not None


def risk_team_with(*roles: str) -> Rule:
    return lambda actor, inside: risk_team(actor, inside) and actor.user.has_role(*roles)


def team_place(place: str, needed_role: str) -> Rule:
    return lambda actor, inside: (
        risk_team(actor, inside) and actor.team_role == place and actor.user.has_role(needed_role)
    )


def manager_or_authoriser(actor: Actor, inside: bool) -> bool:
    return team_place(TeamRole.MANAGER, Role.PROTECTION_MANAGER)(actor, inside) or team_place(
        TeamRole.AUTHORISING, Role.AUTHORISING_OFFICER
    )(actor, inside)


THREAT = "/api/risk/assessments/{assessment_id}/threats/{threat_id}"
VULNERABILITY = "/api/risk/assessments/{assessment_id}/vulnerabilities/{vulnerability_id}"
CORRECTION = {"version": 1, "reason": "matrix"}

drafter: Rule = risk_team_with(*DRAFTERS)
approver: Rule = team_place(TeamRole.MANAGER, Role.PROTECTION_MANAGER)
endorser: Rule = team_place(TeamRole.AUTHORISING, Role.AUTHORISING_OFFICER)
protection: Rule = module(Module.PROTECTION)

WEB_POLICY: dict[str, Rule] = {
    "risk:home": protection,
    "risk:catalogue": role(Role.PROTECTION_MANAGER),
    "risk:catalogue_edit": role(Role.PROTECTION_MANAGER),
    "risk:catalogue_retire": role(Role.PROTECTION_MANAGER),
    "risk:case": risk_team,
    "risk:plan_pdf": risk_team,
    "risk:assessment_new": drafter,
    "risk:measure_add": drafter,
    "risk:decision_add": risk_team,
    "risk:measure_status": drafter,
    "risk:assessment": risk_team,
    "risk:edit": drafter,
    "risk:threat_add": drafter,
    "risk:vulnerability_add": drafter,
    "risk:notice_add": drafter,
    "risk:threat_edit": drafter,
    "risk:threat_end": drafter,
    "risk:threat_history": risk_team,
    "risk:vulnerability_edit": drafter,
    "risk:vulnerability_end": drafter,
    "risk:vulnerability_history": risk_team,
    "risk:submit": drafter,
    "risk:approve": approver,
    "risk:endorse": endorser,
    "risk:return": manager_or_authoriser,
    "risk:assessment_pdf": risk_team,
}

API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/risk/portfolio"): protection,
    ("GET", "/api/risk/catalogue"): protection,
    ("POST", "/api/risk/catalogue"): role(Role.PROTECTION_MANAGER),
    ("PATCH", "/api/risk/catalogue/{code}"): role(Role.PROTECTION_MANAGER),
    ("POST", "/api/risk/catalogue/{code}/retirement"): role(Role.PROTECTION_MANAGER),
    ("GET", "/api/risk/cases/{risk_case_id}/assessments"): risk_team,
    ("POST", "/api/risk/cases/{risk_case_id}/assessments"): drafter,
    ("GET", "/api/risk/assessments/{assessment_id}"): risk_team,
    ("PATCH", "/api/risk/assessments/{assessment_id}"): drafter,
    ("POST", "/api/risk/assessments/{assessment_id}/threats"): drafter,
    ("POST", "/api/risk/assessments/{assessment_id}/vulnerabilities"): drafter,
    ("POST", "/api/risk/assessments/{assessment_id}/notices"): drafter,
    ("PATCH", THREAT): drafter,
    ("POST", f"{THREAT}/ending"): drafter,
    ("GET", f"{THREAT}/history"): risk_team,
    ("PATCH", VULNERABILITY): drafter,
    ("POST", f"{VULNERABILITY}/ending"): drafter,
    ("GET", f"{VULNERABILITY}/history"): risk_team,
    ("POST", "/api/risk/assessments/{assessment_id}/submit"): drafter,
    ("POST", "/api/risk/assessments/{assessment_id}/approve"): approver,
    ("POST", "/api/risk/assessments/{assessment_id}/endorse"): endorser,
    ("POST", "/api/risk/assessments/{assessment_id}/return"): manager_or_authoriser,
    ("GET", "/api/risk/assessments/{assessment_id}/report.pdf"): risk_team,
    ("GET", "/api/risk/cases/{risk_case_id}/plan.pdf"): risk_team,
    ("GET", "/api/risk/cases/{risk_case_id}/measures"): risk_team,
    ("POST", "/api/risk/cases/{risk_case_id}/measures"): drafter,
    ("POST", "/api/risk/measures/{measure_id}/status"): drafter,
    ("GET", "/api/risk/cases/{risk_case_id}/decision-log"): risk_team,
    ("POST", "/api/risk/cases/{risk_case_id}/decision-log"): risk_team,
    ("PATCH", "/api/risk/decision-log/{risk_entry_id}"): risk_team,
}


def _param(kind: str) -> Any:
    return lambda world, inside: str(world[f"risk_{'inside' if inside else 'outside'}_{kind}"].pk)


PARAMS = {
    "risk_case_id": _param("case"),
    "assessment_id": _param("assessment"),
    "measure_id": _param("measure"),
    "risk_entry_id": _param("entry"),
    "threat_id": _param("threat"),
    "vulnerability_id": _param("vulnerability"),
    "code": lambda world, inside: "matrix-catalogue",
}

SCORES = {"likelihood": 3, "impact": 4, "residual_likelihood": 2, "residual_impact": 4}
SAMPLE_PAYLOADS = {
    ("POST", "/api/risk/catalogue"): lambda world: {"name": "Matrix measure"},
    ("PATCH", "/api/risk/catalogue/{code}"): lambda world: {**CORRECTION, "description": "x"},
    ("POST", "/api/risk/catalogue/{code}/retirement"): lambda world: dict(CORRECTION),
    ("POST", "/api/risk/cases/{risk_case_id}/assessments"): lambda world: dict(SCORES),
    ("PATCH", "/api/risk/assessments/{assessment_id}"): lambda world: {"version": 1, "impact": 3},
    ("POST", "/api/risk/assessments/{assessment_id}/threats"): lambda world: {
        "source": "matrix",
        "likelihood": 2,
        "impact": 2,
    },  # fmt: skip
    ("POST", "/api/risk/assessments/{assessment_id}/vulnerabilities"): lambda world: {
        "description": "matrix"
    },
    ("POST", "/api/risk/assessments/{assessment_id}/notices"): lambda world: {
        "kind": "warning",
        "decision": "withheld",
        "recipient": "matrix",
        "withheld_reason": "matrix",
    },  # fmt: skip
    ("PATCH", THREAT): lambda world: {**CORRECTION, "intent": "matrix"},
    ("POST", f"{THREAT}/ending"): lambda world: dict(CORRECTION),
    ("PATCH", VULNERABILITY): lambda world: {**CORRECTION, "description": "matrix"},
    ("POST", f"{VULNERABILITY}/ending"): lambda world: dict(CORRECTION),
    ("POST", "/api/risk/assessments/{assessment_id}/approve"): lambda world: {"comments": ""},
    ("POST", "/api/risk/assessments/{assessment_id}/endorse"): lambda world: {"comments": ""},
    ("POST", "/api/risk/assessments/{assessment_id}/return"): lambda world: {"comments": "x"},
    ("POST", "/api/risk/cases/{risk_case_id}/measures"): lambda world: {"measure_type": "alarm"},
    ("POST", "/api/risk/measures/{measure_id}/status"): lambda world: {
        "status": "suspended",
        "reason": "matrix",
        "version": 1,
    },  # fmt: skip
    ("POST", "/api/risk/cases/{risk_case_id}/decision-log"): lambda world: {
        "decided_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "ndm_stage": "action",
        "decision": "matrix",
        "rationale": "matrix",
    },  # fmt: skip
}


def build(world: dict[str, Any]) -> None:
    actors: list[Actor] = world["actors"]
    lead = next(a.user for a in actors if a.role == Role.PROTECTION_OFFICER)
    inside = make_case(lead, name="Risk Insidecase")
    for actor in actors:
        if actor.team_role:
            case_services.add_member(inside, actor.user, actor.team_role)
    stranger = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=lead.clearance)
    outside = make_case(stranger, name="Risk Outsidecase")
    for where, case, owner, secrets in (
        ("inside", inside, lead, SECRETS_INSIDE),
        ("outside", outside, stranger, SECRETS_OUTSIDE),
    ):
        assessment = services.start_assessment(
            owner, case.pk, threat_to_life=True, osman_real_immediate=secrets[1],
            osman_identified_individual="Principal", osman_third_party="OCG", **SCORES,
        )  # fmt: skip
        world[f"risk_{where}_threat"] = services.add_threat(
            owner, assessment.pk, source=secrets[0], likelihood=3, impact=4
        )
        world[f"risk_{where}_vulnerability"] = services.add_vulnerability(
            owner, assessment.pk, description="Routine school run"
        )
        world[f"risk_{where}_case"] = case
        world[f"risk_{where}_assessment"] = assessment
        world[f"risk_{where}_measure"] = services.add_measure(
            owner, case.pk, measure_type="alarm", controls=["R1"]
        )
        world[f"risk_{where}_entry"] = services.record_decision(
            owner, case.pk, decided_at=timezone.now(), decision_maker=owner,
            ndm_stage="options", decision=secrets[2], rationale="Address compromised",
        )  # fmt: skip
    MeasureType.objects.create(code="matrix-catalogue", name="Matrix catalogue entry")
    world["secrets_inside"] += SECRETS_INSIDE
    world["secrets_outside"] += SECRETS_OUTSIDE

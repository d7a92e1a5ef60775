from __future__ import annotations

from typing import Any

from haven.access.models import TeamRole
from haven.accounts.roles import Module, Role
from haven.cases import services as case_services
from tests.access.rules import Actor, Rule, anyone, module, role
from tests.factories import UserFactory, make_case

SECRET_NAME_INSIDE = "Quentin Insidecase"
SECRET_NAME_OUTSIDE = "Rosalind Outsidecase"
TEAM_PLACES = {
    Role.PROTECTION_OFFICER: TeamRole.LEAD,
    Role.PROTECTION_MANAGER: TeamRole.MANAGER,
    Role.AUTHORISING_OFFICER: TeamRole.AUTHORISING,
    Role.IDENTITY_OFFICER: TeamRole.OFFICER,
}


def case_team(actor: Actor, inside: bool) -> bool:
    return actor.user.can_use(Module.PROTECTION) and inside and actor.team_role is not None


def identity_compartment(actor: Actor, inside: bool) -> bool:
    return case_team(actor, inside) and actor.user.has_role(Role.IDENTITY_OFFICER)


def case_manager(actor: Actor, inside: bool) -> bool:
    return case_team(actor, inside) and actor.team_role == TeamRole.MANAGER


manager_role: Rule = role(Role.PROTECTION_MANAGER)

NOT_POSTED = {"accounts:logout", "accounts:logout_everywhere"}  # would end the test's session

WEB_POLICY: dict[str, Rule] = {
    "web:home": anyone,
    "accounts:profile": anyone,
    "accounts:revoke_token": anyone,
    "accounts:logout": anyone,
    "accounts:logout_everywhere": anyone,
    "web:administration": module(Module.ADMINISTRATION),
    "web:unlock_account": module(Module.ADMINISTRATION),
    "cases:purpose": module(Module.PROTECTION),
    "cases:clear_purpose": module(Module.PROTECTION),
    "cases:list": module(Module.PROTECTION),
    "cases:break_glass": manager_role,
    "cases:detail": case_team,
    "cases:identity": identity_compartment,
    "cases:team": case_manager,
    "audit:ledger": module(Module.AUDIT),
}

API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/me"): anyone,
    ("GET", "/api/cases"): module(Module.PROTECTION),
    ("GET", "/api/cases/{case_id}"): case_team,
    ("PATCH", "/api/cases/{case_id}"): case_team,
    ("GET", "/api/cases/{case_id}/identity"): identity_compartment,
    ("POST", "/api/cases/{case_id}/grants"): case_manager,
    ("POST", "/api/break-glass"): manager_role,
    ("GET", "/api/audit/entries"): module(Module.AUDIT),
}


def case_param(world: dict[str, Any], inside: bool) -> str:
    return str((world["inside_case"] if inside else world["outside_case"]).pk)


PARAMS = {"case_id": case_param}

SAMPLE_PAYLOADS = {
    ("PATCH", "/api/cases/{case_id}"): lambda world: {"version": 1, "reason": "matrix"},
    ("POST", "/api/cases/{case_id}/grants"): lambda world: {
        "username": world["actors"][0].user.username,
        "reason": "matrix",
        "days": 1,
    },
    ("POST", "/api/break-glass"): lambda world: {
        "reference": world["outside_case"].reference,
        "reason": "matrix",
    },
}


def build(world: dict[str, Any]) -> None:
    actors: list[Actor] = world["actors"]
    lead = next(a.user for a in actors if a.role == Role.PROTECTION_OFFICER)
    inside = make_case(lead, name=SECRET_NAME_INSIDE)
    for actor in actors:
        if actor.team_role:
            case_services.add_member(inside, actor.user, actor.team_role)
    stranger = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=lead.clearance)
    outside = make_case(stranger, name=SECRET_NAME_OUTSIDE)
    case_services.record_identity(
        next(a.user for a in actors if a.role == Role.IDENTITY_OFFICER),
        inside.pk,
        legacy_name="Legacy Insideperson",
        new_name="Newname Insideperson",
    )
    world.update(inside_case=inside, outside_case=outside)
    world["secrets_inside"] += [SECRET_NAME_INSIDE, "Newname Insideperson"]
    world["secrets_outside"] += [SECRET_NAME_OUTSIDE]

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Any

from haven.access.models import AccessGrant, TeamMembership, TeamRole
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


def case_team_with(*roles: str) -> Rule:
    return lambda actor, inside: case_team(actor, inside) and actor.user.has_role(*roles)


manager_role: Rule = role(Role.PROTECTION_MANAGER)
intake_role: Rule = role(Role.PROTECTION_OFFICER, Role.PROTECTION_MANAGER)
protection: Rule = module(Module.PROTECTION)
# A 1x1 PNG: a real image by content, for document uploads.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

NOT_POSTED = {"accounts:logout", "accounts:logout_everywhere"}  # would end the test's session

WEB_POLICY: dict[str, Rule] = {
    "web:home": anyone,
    "accounts:profile": anyone,
    "accounts:revoke_token": anyone,
    "accounts:keep_alive": anyone,
    "accounts:logout": anyone,
    "accounts:logout_everywhere": anyone,
    "administration:accounts": module(Module.ADMINISTRATION),
    "administration:unlock_account": module(Module.ADMINISTRATION),
    "cases:purpose": module(Module.PROTECTION),
    "cases:clear_purpose": module(Module.PROTECTION),
    "cases:list": module(Module.PROTECTION),
    "cases:break_glass": manager_role,
    "cases:detail": case_team,
    "cases:identity": identity_compartment,
    "cases:team": case_manager,
    "cases:member_remove": case_manager,
    "cases:grant_revoke": case_manager,
    "cases:people": case_team,
    "cases:contacts": case_team,
    "cases:tasks": case_team,
    "cases:documents": case_team,
    "cases:timeline": case_team,
    "cases:members": case_team,
    "case_hub:operations": case_team,
    "cases:export": protection,
    "cases:referral_new": intake_role,
    "cases:referral_check": intake_role,
    "cases:triage": protection,
    "cases:my_work": protection,
    "cases:dashboard": manager_role,
    "cases:edit": case_team,
    "cases:decision": case_team,
    "cases:decision_check": case_team,
    "cases:joint_add": case_team,
    "cases:person_add": case_team,
    "cases:person_edit": case_team,
    "cases:location_add": case_team,
    "cases:contact_add": case_team,
    "cases:location_edit": case_team,
    "cases:location_end": case_team,
    "cases:location_history": case_team,
    "cases:contact_edit": case_team,
    "cases:contact_withdraw": case_team,
    "cases:contact_history": case_team,
    "cases:task_add": case_team,
    "cases:task_complete": case_team,
    "cases:escalate": case_team,
    "cases:document_add": case_team,
    "cases:document": case_team,
    "cases:directory": protection,
    "cases:partner": protection,
    "cases:partner_new": manager_role,
    "cases:partner_edit": manager_role,
    "cases:partner_retire": manager_role,
    "cases:checklists": protection,
    "cases:checklist": protection,
    "cases:checklist_new": manager_role,
    "cases:checklist_edit": manager_role,
    "cases:checklist_retire": manager_role,
    "cases:checklist_apply": case_team,
    "cases:case_link_add": case_team,
    "audit:ledger": module(Module.AUDIT),
}

API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/me"): anyone,
    ("GET", "/api/cases"): module(Module.PROTECTION),
    ("POST", "/api/cases/search"): module(Module.PROTECTION),
    ("GET", "/api/cases/{case_id}"): case_team,
    ("PATCH", "/api/cases/{case_id}"): case_team,
    ("GET", "/api/cases/{case_id}/identity"): identity_compartment,
    ("POST", "/api/cases/{case_id}/grants"): case_manager,
    ("GET", "/api/cases/{case_id}/team"): case_team,
    ("POST", "/api/cases/{case_id}/team/{membership_id}/removal"): case_manager,
    ("POST", "/api/cases/{case_id}/grants/{grant_id}/revocation"): case_manager,
    ("POST", "/api/break-glass"): manager_role,
    ("PUT", "/api/cases/{case_id}/identity"): identity_compartment,
    ("POST", "/api/referrals"): intake_role,
    ("GET", "/api/triage"): protection,
    ("GET", "/api/case-export"): protection,
    ("GET", "/api/my-work"): protection,
    ("GET", "/api/dashboard"): manager_role,
    ("POST", "/api/cases/{case_id}/decisions"): case_team,
    ("GET", "/api/cases/{case_id}/decisions"): case_team,
    ("POST", "/api/cases/{case_id}/joint-providers"): case_team_with(
        Role.PROTECTION_MANAGER, Role.AUTHORISING_OFFICER
    ),
    ("GET", "/api/cases/{case_id}/timeline"): case_team,
    ("GET", "/api/cases/{case_id}/people"): case_team,
    ("POST", "/api/cases/{case_id}/people"): case_team,
    ("PATCH", "/api/cases/{case_id}/people/{case_person_id}"): case_team,
    ("GET", "/api/cases/{case_id}/locations"): case_team,
    ("POST", "/api/cases/{case_id}/locations"): case_team,
    ("GET", "/api/cases/{case_id}/contacts"): case_team,
    ("POST", "/api/cases/{case_id}/contacts"): case_team,
    ("PATCH", "/api/cases/{case_id}/locations/{case_location_id}"): case_team,
    ("POST", "/api/cases/{case_id}/locations/{case_location_id}/ending"): case_team,
    ("GET", "/api/cases/{case_id}/locations/{case_location_id}/history"): case_team,
    ("PATCH", "/api/cases/{case_id}/contacts/{case_contact_id}"): case_team,
    ("GET", "/api/cases/{case_id}/contacts/{case_contact_id}/history"): case_team,
    ("POST", "/api/cases/{case_id}/contacts/{case_contact_id}/withdrawal"): case_team,
    ("GET", "/api/cases/{case_id}/tasks"): case_team,
    ("POST", "/api/cases/{case_id}/tasks"): case_team,
    ("POST", "/api/cases/{case_id}/tasks/{case_task_id}/complete"): case_team,
    ("POST", "/api/cases/{case_id}/escalations"): case_team,
    ("GET", "/api/cases/{case_id}/documents"): case_team,
    ("POST", "/api/cases/{case_id}/documents"): case_team,
    ("GET", "/api/cases/{case_id}/documents/{case_document_id}"): case_team,
    ("GET", "/api/partners"): protection,
    ("GET", "/api/partners/{partner_id}"): protection,
    ("GET", "/api/partners/{partner_id}/history"): protection,
    ("POST", "/api/partners"): manager_role,
    ("PATCH", "/api/partners/{partner_id}"): manager_role,
    ("POST", "/api/partners/{partner_id}/retirement"): manager_role,
    ("GET", "/api/checklists"): protection,
    ("GET", "/api/checklists/{checklist_id}"): protection,
    ("POST", "/api/checklists"): manager_role,
    ("PATCH", "/api/checklists/{checklist_id}"): manager_role,
    ("POST", "/api/checklists/{checklist_id}/retirement"): manager_role,
    ("POST", "/api/cases/{case_id}/checklists"): case_team,
    ("GET", "/api/cases/{case_id}/links"): case_team,
    ("POST", "/api/cases/{case_id}/links"): case_team,
    ("POST", "/api/people/search"): protection,
    ("GET", "/api/audit/entries"): module(Module.AUDIT),
}


def case_param(world: dict[str, Any], inside: bool) -> str:
    return str((world["inside_case"] if inside else world["outside_case"]).pk)


def record_param(kind: str) -> Any:
    return lambda world, inside: str(world[f"{'inside' if inside else 'outside'}_{kind}"].pk)


PARAMS = {
    "case_id": case_param,
    "case_person_id": record_param("person"),
    "case_task_id": record_param("task"),
    "case_document_id": record_param("document"),
    "case_location_id": record_param("location"),
    "case_contact_id": record_param("contact"),
    "membership_id": record_param("membership"),
    "grant_id": record_param("grant"),
    # One directory entry for everyone: inside or outside a case makes no difference to it.
    "partner_id": lambda world, inside: str(world["partner"].pk),
    "checklist_id": lambda world, inside: str(world["checklist"].pk),
}

SAMPLE_PAYLOADS = {
    ("POST", "/api/checklists"): lambda world: {
        "name": "Matrix checklist",
        "items": [{"title": "Matrix item", "due_in_days": 3}],
    },
    # A version never current (409 for a manager), so the shared template stays as it is.
    ("PATCH", "/api/checklists/{checklist_id}"): lambda world: {
        "version": 0,
        "reason": "matrix",
        "name": "Matrix renamed",
    },
    ("POST", "/api/checklists/{checklist_id}/retirement"): lambda world: {
        "version": 0,
        "reason": "matrix",
    },
    ("POST", "/api/cases/{case_id}/checklists"): lambda world: {
        "checklist_id": str(world["checklist"].pk),
        "confirm_repeat": True,
    },
    ("POST", "/api/cases/{case_id}/links"): lambda world: {
        "linked_case": world["break_glass_case"].reference,
        "reason": "matrix",
    },
    ("POST", "/api/people/search"): lambda world: {"name": "Petra Insidefamily"},
    ("POST", "/api/partners"): lambda world: {
        "organisation": "Matrix Trust",
        "contact_name": "Matrix Contact",
        "contact_details": "01632 960000",
        "may_be_told": "nothing",
    },
    # A version never current: a permitted caller gets 409 and the shared entry stays as it is
    # (retired, it could no longer be changed by the actors tried after).
    ("PATCH", "/api/partners/{partner_id}"): lambda world: {
        "version": 0,
        "reason": "matrix",
        "role": "Matrix role",
    },
    ("POST", "/api/partners/{partner_id}/retirement"): lambda world: {
        "version": 0,
        "reason": "matrix",
    },
    ("POST", "/api/cases/{case_id}/team/{membership_id}/removal"): lambda world: {
        "reason": "matrix"
    },
    ("POST", "/api/cases/{case_id}/grants/{grant_id}/revocation"): lambda world: {
        "reason": "matrix"
    },
    ("PATCH", "/api/cases/{case_id}"): lambda world: {"version": 1, "reason": "matrix"},
    ("POST", "/api/cases/{case_id}/grants"): lambda world: {
        "username": world["actors"][0].user.username,
        "reason": "matrix",
        "days": 1,
    },
    ("POST", "/api/break-glass"): lambda world: {
        # A case of its own, so that the break-glass grant opens nothing the matrix checks later.
        "reference": world["break_glass_case"].reference,
        "reason": "matrix",
    },
    ("PUT", "/api/cases/{case_id}/identity"): lambda world: {
        "legacy_name": "Legacy Insideperson",
        "legacy_dob": None,
        "new_name": "Newname Insideperson",
        "new_dob": None,
    },
    ("POST", "/api/referrals"): lambda world: {
        "subject_name": "Matrix Referral",
        "referring_organisation": "Matrix Police",
        "referring_officer": "DC Matrix",
        "threat_summary": "matrix",
        "urgency": "routine",
    },
    ("POST", "/api/cases/{case_id}/decisions"): lambda world: {
        "to_status": "assessed",
        "version": 1,
        "reason": "matrix",
    },
    ("POST", "/api/cases/{case_id}/joint-providers"): lambda world: {
        "provider": "Matrix Provider",
        "agreed_on": "2026-01-01",
    },
    ("POST", "/api/cases/{case_id}/people"): lambda world: {
        "full_name": "Matrix Person",
        "relationship": "child",
    },
    ("PATCH", "/api/cases/{case_id}/people/{case_person_id}"): lambda world: {
        "version": 1,
        "notes": "matrix",
    },
    ("POST", "/api/cases/{case_id}/locations"): lambda world: {
        "kind": "residence",
        "address": "1 Matrix Road",
        "valid_from": "2026-01-01",
    },
    ("POST", "/api/cases/{case_id}/contacts"): lambda world: {
        "occurred_at": "2026-01-01T10:00:00Z",
        "method": "phone",
        "summary": "matrix",
    },
    ("PATCH", "/api/cases/{case_id}/locations/{case_location_id}"): lambda world: {
        "version": 1,
        "reason": "matrix",
        "address": "10 Matrix Road",
    },
    ("POST", "/api/cases/{case_id}/locations/{case_location_id}/ending"): lambda world: {
        "version": 1,
        "reason": "matrix",
        "ended_on": "2026-02-01",
    },
    ("PATCH", "/api/cases/{case_id}/contacts/{case_contact_id}"): lambda world: {
        "version": 1,
        "reason": "matrix",
        "summary": "matrix corrected",
    },
    ("POST", "/api/cases/{case_id}/contacts/{case_contact_id}/withdrawal"): lambda world: {
        "version": 1,
        "reason": "matrix: entered in error",
    },
    ("POST", "/api/cases/{case_id}/tasks"): lambda world: {
        "title": "matrix",
        "due_on": "2026-12-01",
    },
    ("POST", "/api/cases/{case_id}/tasks/{case_task_id}/complete"): lambda world: {
        "version": 1,
        "response": "done",
    },
    ("POST", "/api/cases/{case_id}/escalations"): lambda world: {"question": "matrix"},
    ("POST", "/api/cases/{case_id}/documents"): lambda world: {
        "title": "matrix",
        "filename": "matrix.png",
        "content_base64": base64.b64encode(TINY_PNG).decode(),
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
    for where, case in (("inside", inside), ("outside", outside)):
        world[f"{where}_membership"] = TeamMembership.objects.filter(
            object_type="case", object_id=case.pk
        ).first()
        world[f"{where}_grant"] = AccessGrant.objects.create(
            object_type="case",
            object_id=case.pk,
            user=UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=lead.clearance),
            kind="grant",
            granted_by=lead,
            expires_at=case.received_at + timedelta(days=3650),
        )
    world["break_glass_case"] = make_case(stranger, name="Bettina Breakglasscase")
    world["partner"] = case_services.add_partner(
        next(a.user for a in actors if a.role == Role.PROTECTION_MANAGER),
        organisation="Matrix Housing",
        contact_name="Matrix Partnercontact",
        contact_details="01632 960111",
        may_be_told="existence",
    )
    world["checklist"] = case_services.add_checklist(
        next(a.user for a in actors if a.role == Role.PROTECTION_MANAGER),
        name="Matrix relocation checklist",
        items=[{"title": "Matrix step", "due_in_days": 2}],
    )
    for where, case, owner in (("inside", inside, lead), ("outside", outside, stranger)):
        label = where.capitalize()
        world[f"{where}_person"] = case_services.add_person(
            owner, case.pk, full_name=f"Petra {label}family", relationship="child"
        )
        world[f"{where}_task"] = case_services.create_task(
            owner, case.pk, title=f"Telephone {label}school", due_on=date(2026, 1, 1)
        )
        world[f"{where}_document"] = case_services.upload_document(
            owner, case.pk, title=f"Letter {label}doc", filename="letter.png", data=TINY_PNG
        )
        world[f"{where}_contact"] = case_services.log_contact(
            owner,
            case.pk,
            occurred_at=case.received_at,
            method="phone",
            summary=f"Spoke about {label}strain",
        )
        world[f"{where}_location"] = case_services.add_location(
            owner,
            case.pk,
            kind="safe_house",
            address=f"9 {label}hide Road",
            valid_from=date(2026, 1, 1),
        )
    world["secrets_inside"] += [SECRET_NAME_INSIDE, "Newname Insideperson", "Petra Insidefamily"]
    world["secrets_inside"] += ["Telephone Insideschool", "9 Insidehide Road", "Insidestrain"]
    world["secrets_outside"] += [SECRET_NAME_OUTSIDE, "Petra Outsidefamily", "Outsidestrain"]
    world["secrets_outside"] += ["Telephone Outsideschool", "9 Outsidehide Road"]

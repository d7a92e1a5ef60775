"""Access rules for the equipment register and deployments (see tests/access/rules.py).

Deployments are need-to-know: only their team opens them ("inside" = a deployment with the
technician and supervisor actors on its team; "outside" = another supervisor's deployment).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from haven.accounts.roles import Module, Role
from haven.equipment import services
from haven.equipment.models import AssetType, TeamPlace
from tests.access.rules import Actor, Rule, module, role
from tests.equipment.helpers import supervisor

INSIDE_ADDRESS = "12 Insidewell Road, Matrixton"
OUTSIDE_ADDRESS = "99 Outsider Lane, Elsewhere"
OUTSIDE_OBJECTIVE = "Outsideonly objective text"

operations: Rule = module(Module.OPERATIONS)
supervisors: Rule = role(Role.TECHNICAL_SUPERVISOR)


def team(actor: Actor, inside: bool) -> bool:
    return inside and actor.user.can_use(Module.OPERATIONS)


def team_supervisor(actor: Actor, inside: bool) -> bool:
    return inside and actor.user.has_role(Role.TECHNICAL_SUPERVISOR)


WEB_POLICY: dict[str, Rule] = {
    "equipment:home": operations,
    "equipment:assets": operations,
    "equipment:asset_new": supervisors,
    "equipment:asset_types": supervisors,
    "equipment:asset_type_edit": supervisors,
    "equipment:asset_type_retire": supervisors,
    "equipment:asset_detail": operations,
    "equipment:asset_edit": supervisors,
    "equipment:asset_history": operations,
    "equipment:custody_csv": operations,
    "equipment:custody_pdf": operations,
    "equipment:kits": operations,
    "equipment:deployments": operations,
    "equipment:deployment_new": supervisors,
    "equipment:deployment_log_csv": operations,
    "equipment:deployment_log_pdf": operations,
    "equipment:deployment_detail": team,
    "equipment:deployment_pdf": team,
    "equipment:kit_remove": team_supervisor,
    "equipment:calendar": operations,
}

API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/equipment/asset-types"): operations,
    ("PATCH", "/api/equipment/asset-types/{code}"): supervisors,
    ("POST", "/api/equipment/asset-types/{code}/retirement"): supervisors,
    ("GET", "/api/equipment/assets"): operations,
    ("POST", "/api/equipment/assets"): supervisors,
    ("GET", "/api/equipment/assets/{asset_id}"): operations,
    ("PATCH", "/api/equipment/assets/{asset_id}"): supervisors,
    ("GET", "/api/equipment/assets/{asset_id}/history"): operations,
    ("POST", "/api/equipment/assets/{asset_id}/state"): supervisors,
    ("GET", "/api/equipment/assets/{asset_id}/custody"): operations,
    ("POST", "/api/equipment/assets/{asset_id}/custody"): operations,
    ("GET", "/api/equipment/assets/{asset_id}/custody.csv"): operations,
    ("GET", "/api/equipment/kits"): operations,
    ("POST", "/api/equipment/kits"): supervisors,
    ("GET", "/api/equipment/deployments"): operations,
    ("POST", "/api/equipment/deployments"): supervisors,
    ("GET", "/api/equipment/deployments/{deployment_id}"): team,
    ("POST", "/api/equipment/deployments/{deployment_id}/team"): team_supervisor,
    ("POST", "/api/equipment/deployments/{deployment_id}/kit"): team_supervisor,
    ("POST", "/api/equipment/deployments/{deployment_id}/kit/{asset_id}/removal"): team_supervisor,
    ("POST", "/api/equipment/deployments/{deployment_id}/status"): team_supervisor,
    ("POST", "/api/equipment/deployments/{deployment_id}/schedule"): team_supervisor,
    ("POST", "/api/equipment/deployments/{deployment_id}/checklist"): team,
    ("GET", "/api/equipment/deployment-log.csv"): operations,
    ("GET", "/api/equipment/calendar"): operations,
}


def deployment_param(world: dict[str, Any], inside: bool) -> str:
    return str((world["inside_deployment"] if inside else world["outside_deployment"]).pk)


PARAMS = {
    "asset_id": lambda world, inside: str(world["matrix_asset"].pk),
    "deployment_id": deployment_param,
    "code": lambda world, inside: "panic-button",
}

SAMPLE_PAYLOADS = {
    ("POST", "/api/equipment/assets"): lambda world: {
        "asset_type": "panic-button",
        "make": "Matrix",
        "model_name": "M1",
        "serial": "MATRIX-NEW-1",
    },
    ("POST", "/api/equipment/assets/{asset_id}/state"): lambda world: {
        "state": "destroyed",  # refused from in stock: validation, not access
        "reason": "matrix",
    },
    ("PATCH", "/api/equipment/asset-types/{code}"): lambda world: {
        "version": 1,
        "reason": "matrix",
    },
    ("POST", "/api/equipment/asset-types/{code}/retirement"): lambda world: {
        "version": 99,  # stale: a conflict, not access
        "reason": "matrix",
    },
    ("PATCH", "/api/equipment/assets/{asset_id}"): lambda world: {
        "version": 1,
        "reason": "matrix",
    },
    ("POST", "/api/equipment/assets/{asset_id}/custody"): lambda world: {
        "kind": "issued",
        "signature": "Not A Real Signature",
    },
    ("POST", "/api/equipment/kits"): lambda world: {"name": "Matrix kit", "asset_ids": []},
    ("POST", "/api/equipment/deployments/{deployment_id}/kit/{asset_id}/removal"): lambda world: {
        "version": 1,
        "reason": "matrix",
    },
    ("POST", "/api/equipment/deployments"): lambda world: {
        "title": "Matrix plan",
        "objective": "matrix",
        "starts_at": "2030-01-01T09:00:00+00:00",
        "ends_at": "2030-01-02T09:00:00+00:00",
    },
    ("POST", "/api/equipment/deployments/{deployment_id}/team"): lambda world: {
        "username": world["matrix_spare"].username,
        "place": "supervisor",  # a valid place the spare cannot take: refused after access
    },
    ("POST", "/api/equipment/deployments/{deployment_id}/kit"): lambda world: {},
    ("POST", "/api/equipment/deployments/{deployment_id}/status"): lambda world: {
        "status": "completed"  # not from planned: refused after access
    },
    ("POST", "/api/equipment/deployments/{deployment_id}/schedule"): lambda world: {
        "starts_at": "2030-01-02T09:00:00+00:00",  # ends first: refused after access
        "ends_at": "2030-01-01T09:00:00+00:00",
    },
    ("POST", "/api/equipment/deployments/{deployment_id}/checklist"): lambda world: {
        "which": "install",
        "index": 0,
        "done": True,
    },
}


def build(world: dict[str, Any]) -> None:
    actors: list[Actor] = world["actors"]
    boss = next(a.user for a in actors if a.role == Role.TECHNICAL_SUPERVISOR)
    tech = next(a.user for a in actors if a.role == Role.TECHNICAL_OFFICER)
    start = timezone.now() + timedelta(days=3)
    inside = services.create_deployment(
        boss,
        title="Matrix inside",
        objective="Inside objective",
        install_address=INSIDE_ADDRESS,
        starts_at=start,
        ends_at=start + timedelta(days=2),
    )
    services.add_team_member(boss, inside.pk, tech, TeamPlace.TECHNICIAN)
    stranger = supervisor()
    outside = services.create_deployment(
        stranger,
        title="Matrix outside",
        objective=OUTSIDE_OBJECTIVE,
        install_address=OUTSIDE_ADDRESS,
        starts_at=start,
        ends_at=start + timedelta(days=2),
    )
    asset = services.register_asset(
        boss,
        asset_type=AssetType.objects.get(code="vehicle-tracker"),
        make="Matrix",
        model_name="T1",
        serial="MATRIX-T1",
    )
    services.assign_asset(boss, inside.pk, asset)
    world.update(
        inside_deployment=inside,
        outside_deployment=outside,
        matrix_asset=asset,
        matrix_spare=stranger,
    )
    world["secrets_inside"] += [INSIDE_ADDRESS]
    world["secrets_outside"] += [OUTSIDE_ADDRESS, OUTSIDE_OBJECTIVE]

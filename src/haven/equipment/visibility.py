"""Who sees which equipment records (registered with haven.access.visibility by
EquipmentConfig.ready)."""

from __future__ import annotations

from django.db.models import Q

from haven.access import policy
from haven.access.visibility import NOTHING, Access, cleared, open_to, register
from haven.accounts.models import User
from haven.accounts.roles import Module, Role

from .models import DEPLOYMENT, Asset, Deployment, KitList, TeamPlace


def deployment_rule(user: User, action: Access) -> Q:
    """Operations module role, then a place on the deployment's team (access.TeamMembership),
    never above clearance. Changing it needs the supervising officer's place and the technical
    supervisor role."""
    if not user.can_use(Module.OPERATIONS):
        return NOTHING
    if action == Access.CHANGE:
        if not user.has_role(Role.TECHNICAL_SUPERVISOR):
            return NOTHING
        return policy.team_filter(user, DEPLOYMENT, team_roles=[TeamPlace.SUPERVISOR]) & cleared(
            user
        )
    return policy.team_filter(user, DEPLOYMENT) & cleared(user)


register(Deployment, deployment_rule)
# The register (types, makes, serials, states, who holds what) is open to the module.
register(Asset, open_to(Module.OPERATIONS))
register(KitList, open_to(Module.OPERATIONS))

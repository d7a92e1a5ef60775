"""Who sees which register records (registered with haven.access.visibility by
AuthorisationsConfig.ready). The register is open to the operations module (an officer on a
covert deployment must be able to check its authority); changing it and every quarantined
position are for technical supervisors only."""

from __future__ import annotations

from django.db.models import Q

from haven.access.visibility import EVERYTHING, NOTHING, Access, register
from haven.accounts.models import User
from haven.accounts.roles import Module, Role

from .models import Authorisation, QuarantinedPosition


def authorisation_rule(user: User, action: Access) -> Q:
    if not user.can_use(Module.OPERATIONS):
        return NOTHING
    if action == Access.CHANGE and not user.has_role(Role.TECHNICAL_SUPERVISOR):
        return NOTHING
    return EVERYTHING


def quarantine_rule(user: User, action: Access) -> Q:
    """Data collected without authority: supervisors only, whatever the action."""
    if user.can_use(Module.OPERATIONS) and user.has_role(Role.TECHNICAL_SUPERVISOR):
        return EVERYTHING
    return NOTHING


register(Authorisation, authorisation_rule)
register(QuarantinedPosition, quarantine_rule)

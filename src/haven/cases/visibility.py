"""Who sees which case records (registered with haven.access.visibility by CasesConfig.ready)."""

from __future__ import annotations

from django.db.models import Q

from haven.access import policy
from haven.access.visibility import NOTHING, Access, cleared, register, restrict
from haven.accounts.models import User
from haven.accounts.roles import Module

from .models import OBJECT_TYPE, Case, CaseLink, CaseTask


def case_rule(user: User, action: Access) -> Q:
    """Protection module role, then a team place or a live grant, never above clearance."""
    if not user.can_use(Module.PROTECTION):
        return NOTHING
    return policy.reachable_filter(user, OBJECT_TYPE) & cleared(user)


def task_rule(user: User, action: Access) -> Q:
    """Tasks on the cases the user may see."""
    if not user.can_use(Module.PROTECTION):
        return NOTHING
    return Q(case__in=restrict(Case, user, action))


def link_rule(user: User, action: Access) -> Q:
    """A link between two cases is seen only by someone who may see both of them."""
    if not user.can_use(Module.PROTECTION):
        return NOTHING
    visible = restrict(Case, user, action)
    return Q(case__in=visible, linked_case__in=visible)


register(Case, case_rule)
register(CaseLink, link_rule)
register(CaseTask, task_rule)

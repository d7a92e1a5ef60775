"""Who sees which risk records (registered with haven.access.visibility by RiskConfig.ready)."""

from __future__ import annotations

from django.db.models import Q

from haven.access import policy
from haven.access.visibility import NOTHING, Access, cleared, register
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.cases.selectors import cases_visible_to

from .models import DecisionLogEntry, ProtectiveMeasure, RiskAssessment

CASE_OBJECT = "case"


def assessment_rule(user: User, action: Access) -> Q:
    """The case rule (protection module role, team place or live grant, clearance) written
    against the assessment's case_id and its own classification (copied from the case, whose
    classification never changes), so that no case is joined: the portfolio is answered from
    the covering index risk_portfolio_idx (seconds against tenths of a second at 100,000 cases).
    """
    if not user.can_use(Module.PROTECTION):
        return NOTHING
    return policy.reachable_filter(user, CASE_OBJECT, field="case_id") & cleared(user)


def on_visible_cases(user: User, action: Access) -> Q:
    """Measures and decision-log entries on the cases the user may see."""
    if not user.can_use(Module.PROTECTION):
        return NOTHING
    return Q(case__in=cases_visible_to(user))


register(RiskAssessment, assessment_rule)
register(ProtectiveMeasure, on_visible_cases)
register(DecisionLogEntry, on_visible_cases)

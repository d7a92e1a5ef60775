"""Who sees which oversight records (registered with haven.access.visibility by
OversightConfig.ready)."""

from __future__ import annotations

from django.db.models import Q

from haven.access.visibility import NOTHING, Access, cleared, register
from haven.accounts.models import User
from haven.accounts.roles import Module

from .models import (
    Complaint,
    ComplaintDocument,
    ComplaintNote,
    GovernanceMeeting,
    ReviewApplication,
)


def complaint_rule(user: User, action: Access) -> Q:
    """Oversight module role, never above clearance."""
    return cleared(user) if user.can_use(Module.OVERSIGHT) else NOTHING


def review_rule(user: User, action: Access) -> Q:
    """Review applications of the complaints the user may see."""
    if not user.can_use(Module.OVERSIGHT):
        return NOTHING
    return cleared(user, "complaint__classification")


def governance_rule(user: User, action: Access) -> Q:
    """Governance meetings hold no personal data: every oversight role."""
    return Q() if user.can_use(Module.OVERSIGHT) else NOTHING


register(Complaint, complaint_rule)
register(ComplaintNote, review_rule)
register(ComplaintDocument, review_rule)
register(GovernanceMeeting, governance_rule)
register(ReviewApplication, review_rule)

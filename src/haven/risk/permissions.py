"""What a user may do in a case's risk work: one function per action, asked by the service (to
refuse) and by the page (to offer), so a refused action is never offered.

Visibility of the case or assessment is decided first (selectors); these answer the rest."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from haven.accounts.models import User
from haven.accounts.roles import Role

from .models import MEASURE_TRANSITIONS, MeasureStatus, ProtectiveMeasure, RiskAssessment

DRAFTING_ROLES = (Role.PROTECTION_OFFICER, Role.PROTECTION_MANAGER)
# A new measure starts proposed, agreed or in place; anything but proposed records the
# management team's agreement, which only a manager may record.
NEW_MEASURE_STATUSES = (MeasureStatus.PROPOSED, MeasureStatus.AGREED, MeasureStatus.IN_PLACE)
MANAGER_ONLY = "Only a manager records a measure as agreed by the management team"


def may_draft(user: User) -> bool:
    return user.has_role(*DRAFTING_ROLES)


def require_drafter(user: User) -> None:
    if not may_draft(user):
        raise PermissionDenied("Only protection officers and managers write risk assessments")


def may_manage_catalogue(user: User) -> bool:
    """The catalogue of protective measures: added to, corrected and retired by managers."""
    return user.has_role(Role.PROTECTION_MANAGER)


def require_manage_catalogue(user: User) -> None:
    if not may_manage_catalogue(user):
        raise PermissionDenied("Only protection managers change the catalogue of measures")


def may_edit_assessment(user: User, assessment: RiskAssessment) -> bool:
    """Draft or returned versions only: approved, endorsed and superseded ones are read-only."""
    return may_draft(user) and assessment.editable


def may_add_measure_as(user: User, status: str) -> bool:
    if status not in NEW_MEASURE_STATUSES:
        return False
    return status == MeasureStatus.PROPOSED or user.has_role(Role.PROTECTION_MANAGER)


def new_measure_statuses(user: User) -> list[tuple[str, str]]:
    return [
        (status.value, status.label)
        for status in NEW_MEASURE_STATUSES
        if may_add_measure_as(user, status)
    ]


def may_move_measure(user: User, measure: ProtectiveMeasure, status: str) -> bool:
    rule = MEASURE_TRANSITIONS.rule(measure.status, status)
    return may_draft(user) and rule is not None and rule.permits(user.roles)


def measure_moves(user: User, measure: ProtectiveMeasure) -> list[tuple[str, str]]:
    """(status, label) for each status `user` may move the measure to now."""
    return [
        (status, label)
        for status, label in MEASURE_TRANSITIONS.choices_from(measure.status)
        if may_move_measure(user, measure, status)
    ]

"""What a user may do to equipment records: one function per action, asked by the service (to
refuse) and by the page (to offer), so an action the service would refuse is never offered."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from haven.access import modules
from haven.accounts.models import User


def may_correct_asset(user: User) -> bool:
    """Only a technical supervisor corrects an asset's details (firmware, SIM, IP, device id,
    notes); a technician or anyone else may read them where they may, never rewrite them."""
    return modules.is_technical_supervisor(user)


def require_correct_asset(user: User) -> None:
    modules.require_operations(user)
    if not may_correct_asset(user):
        raise PermissionDenied("Only technical supervisors correct an asset's details")


def may_manage_catalogue(user: User) -> bool:
    """Kinds of kit (AssetType) are corrected and retired by technical supervisors only."""
    return modules.is_technical_supervisor(user)


def require_manage_catalogue(user: User) -> None:
    modules.require_operations(user)
    if not may_manage_catalogue(user):
        raise PermissionDenied("Only technical supervisors change the kinds of kit")

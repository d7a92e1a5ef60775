"""Who may take which oversight action: asked by the services (to refuse) and by the views and
templates (to offer). One rule each."""

from __future__ import annotations

from collections.abc import Iterable

from haven.accounts.models import User
from haven.accounts.roles import Role

CASEWORKER_ROLES = frozenset({Role.OVERSIGHT_OFFICER})
MANAGER_ROLES = frozenset({Role.OVERSIGHT_HEAD})


def is_caseworker(user: User) -> bool:
    """An active oversight caseworker: the only people a complaint or review may be given to."""
    return bool(user.is_active and user.has_role(*CASEWORKER_ROLES))


def may_assign(user: User) -> bool:
    """Oversight managers assign and reassign complaints and reviews and see caseloads."""
    return bool(user.has_role(*MANAGER_ROLES))


def may_see_caseloads(user: User) -> bool:
    return may_assign(user)


def may_own_actions(user: User) -> bool:
    """A governance action's owner: any active member of oversight staff."""
    return bool(user.is_active and user.has_role(*CASEWORKER_ROLES, *MANAGER_ROLES))


def roles_of(user: User | None) -> Iterable[str] | None:
    """The roles a transition table checks (None: a system job, e.g. the demo loader)."""
    return None if user is None else list(user.roles)

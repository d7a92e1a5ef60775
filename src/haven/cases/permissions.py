"""What a user may do on a case: one function per action, asked by the service (to refuse) and by
the page (to offer), so an action the service would refuse is never offered.

Each `may_*` answers yes or no; each `require_*` raises the refusal the service shows. Visibility
of the case itself (team, grant, clearance) is decided before these are asked (selectors).
"""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import PermissionDenied, ValidationError

from haven.access import policy
from haven.access.models import TeamRole
from haven.access.modules import module_people
from haven.accounts.models import User
from haven.accounts.roles import Module, Role

from . import config
from .models import OBJECT_TYPE, Case

JOINT_PROVIDER_ROLES = (Role.PROTECTION_MANAGER, Role.AUTHORISING_OFFICER)


# Where a case read for one user keeps that user's places on its team (see read_with_places).
_PLACES = "_team_places_of"


def read_with_places(case: Case, user: User, places: Collection[str]) -> None:
    """Keep on `case` the places `user` holds on its team, read in the same query as the case
    (selectors.get_case_file): the questions a page asks below then need no query of their
    own. Services never rely on it: each write reads its case afresh and asks again."""
    case.__dict__[_PLACES] = (user.pk, frozenset(places))


def known_places(user: User, case: Case) -> frozenset[str] | None:
    """`user`'s places on the case's team if read with the case for this user, else None."""
    known = case.__dict__.get(_PLACES)
    return known[1] if known is not None and known[0] == user.pk else None


def places_on(user: User, case: Case) -> Collection[str]:
    known = known_places(user, case)
    return policy.team_roles(user, OBJECT_TYPE, case.pk) if known is None else known


def may_read_identity(user: User, case: Case) -> bool:
    """The new-identity compartment (policy.may_read_identity) of this case."""
    return policy.may_read_identity(user, OBJECT_TYPE, case.pk, known_places(user, case))


def may_decide(user: User, case: Case, to_status: str) -> bool:
    """May `user` move the arrangement from its status to `to_status` (SOCPA decisions)?"""
    rule = config.TRANSITIONS.rule(case.status, to_status)
    return rule is not None and rule.permits(user.roles)


def decisions_open_to(user: User, case: Case) -> list[tuple[str, str]]:
    """(status, label) for each decision `user` may make on the case now."""
    return [
        (target, label)
        for target, label in config.TRANSITIONS.choices_from(case.status)
        if may_decide(user, case, target)
    ]


def require_decision(user: User, case: Case, to_status: str) -> None:
    """Refuse a decision `user` may not make (an unknown move is the table's own refusal)."""
    rule = config.TRANSITIONS.check(case.status, to_status)
    if not may_decide(user, case, to_status):
        labels = " or ".join(sorted(Role(r).label.lower() for r in rule.roles))
        raise PermissionDenied(f"Only an {labels} can make this decision")


def may_record_joint_provider(user: User) -> bool:
    return user.has_role(*JOINT_PROVIDER_ROLES)


def require_joint_provider(user: User) -> None:
    if not may_record_joint_provider(user):
        raise PermissionDenied("Only a manager or authorising officer records joint providers")


def may_manage_team(user: User, case: Case) -> bool:
    """Team and grants are managed by the case's own manager (a grant is never enough)."""
    return policy.may_grant(user, OBJECT_TYPE, case.pk, known_places(user, case))


# A case's places, and the role a place needs beyond the protection module (a decision-maker
# place is only for someone who may take that decision).
CASE_PLACES = (TeamRole.LEAD, TeamRole.OFFICER, TeamRole.MANAGER, TeamRole.AUTHORISING)
PLACE_ROLES = {
    TeamRole.MANAGER: (Role.PROTECTION_MANAGER,),
    TeamRole.AUTHORISING: (Role.AUTHORISING_OFFICER,),
}


def may_join(colleague: User, case: Case, team_role: str | None = None) -> bool:
    """May `colleague` be put on the case's team (in `team_role`) or given a grant to it: an
    active account whose roles work protection cases, cleared to the case's classification."""
    if not (colleague.is_active and colleague.can_use(Module.PROTECTION)):
        return False
    if colleague.effective_clearance < case.classification:
        return False
    if team_role is None:
        return True
    if team_role not in CASE_PLACES:
        return False
    needed = PLACE_ROLES.get(TeamRole(team_role))
    return needed is None or colleague.has_role(*needed)


def eligible_colleagues(case: Case) -> list[User]:
    """Everyone `may_join` the case (the team and grant pickers offer exactly these)."""
    return [user for user in module_people(Module.PROTECTION) if may_join(user, case)]


def require_colleague(colleague: User, case: Case, team_role: str | None = None) -> None:
    if team_role is not None and team_role not in CASE_PLACES:
        raise ValidationError({"team_role": "Choose a place on the team"})
    if not may_join(colleague, case):
        raise ValidationError(
            {
                "user": f"{colleague} cannot work on this case: they need a protection role "
                f"and clearance to {case.marking}"
            }
        )
    if team_role is not None and not may_join(colleague, case, team_role):
        needed = " or ".join(Role(r).label.lower() for r in PLACE_ROLES[TeamRole(team_role)])
        raise ValidationError(
            {"team_role": f"Only a {needed} can be the case's {TeamRole(team_role).label.lower()}"}
        )


def may_correct_records(user: User, case: Case) -> bool:
    """Correcting or ending a case's records (locations, contacts) is for its team: someone who
    reads the case on a time-limited or break-glass grant may read them but not rewrite them."""
    return user.can_use(Module.PROTECTION) and bool(places_on(user, case))


def require_correct_records(user: User, case: Case) -> None:
    if not may_correct_records(user, case):
        raise PermissionDenied("Only a member of the case team can correct or end its records")


def may_manage_directory(user: User) -> bool:
    """The partner directory is kept by protection managers; every protection user reads it."""
    return user.can_use(Module.PROTECTION) and user.has_role(Role.PROTECTION_MANAGER)


def require_manage_directory(user: User) -> None:
    if not may_manage_directory(user):
        raise PermissionDenied("Only a protection manager can change the partner directory")


def may_manage_checklists(user: User) -> bool:
    """Checklist templates are kept by protection managers; every case team applies them."""
    return user.can_use(Module.PROTECTION) and user.has_role(Role.PROTECTION_MANAGER)


def require_manage_checklists(user: User) -> None:
    if not may_manage_checklists(user):
        raise PermissionDenied("Only a protection manager can change checklist templates")


def may_add_tasks(user: User, case: Case) -> bool:
    """Setting tasks from a checklist is for the case team, who own the tasks it sets: someone
    reading the case on a grant or break-glass may read its tasks, not fill its to-do list."""
    return may_correct_records(user, case)


def require_add_tasks(user: User, case: Case) -> None:
    if not may_add_tasks(user, case):
        raise PermissionDenied("Only a member of the case team can apply a checklist to it")


def may_link_cases(user: User, case: Case) -> bool:
    """Linking a case to another is for the case's team (the other case must be visible too)."""
    return may_correct_records(user, case)


def require_link_cases(user: User, case: Case) -> None:
    if not may_link_cases(user, case):
        raise PermissionDenied("Only a member of the case team can link it to another case")

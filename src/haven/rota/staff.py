"""Staff groups: whose welfare a supervisor sees (issue 20, item 8).

Welfare and working time are kept for two groups of staff, each behind its own module's gate:
operations (technical officers, supervised by technical supervisors; pages under
/operations/rota/welfare/) and protection (protection officers and everyone else whose roles
open the protection module, supervised by protection managers; pages under
/protection/welfare/). A supervisor sees and records for the people of the group they
supervise, and nobody else: a protection manager never sees a technical officer's welfare, nor
a technical supervisor a protection officer's. A person whose roles open both modules belongs
to both groups.

Pure rules over roles: no reads of protected data, so selectors and services both use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from haven.access import modules
from haven.accounts.models import User
from haven.accounts.roles import Module, Role


@dataclass(frozen=True)
class StaffGroup:
    code: str
    module: Module
    supervisor_role: Role
    # Says who may be chosen (a form or API error when someone outside the group is named).
    people_label: str
    supervisor_label: str

    def includes(self, person: User | None) -> bool:
        """Whose welfare the group keeps (an account since closed included: its records stay)."""
        return person is not None and person.can_use(self.module)

    def supervises(self, user: User) -> bool:
        return user.can_use(self.module) and user.has_role(self.supervisor_role)

    def require_member(self, user: User) -> User:
        """The mount gate's rule, for services and selectors other code may call (404)."""
        return modules.require_module(user, self.module)

    def require_supervisor(self, user: User) -> User:
        self.require_member(user)
        if not self.supervises(user):
            raise PermissionDenied(f"Only {self.supervisor_label} can do this")
        return user

    def people(self) -> list[User]:
        """Active accounts in the group, by username."""
        return modules.module_people(self.module)


OPERATIONS = StaffGroup(
    code="operations",
    module=Module.OPERATIONS,
    supervisor_role=Role.TECHNICAL_SUPERVISOR,
    people_label="a technical officer or supervisor",
    supervisor_label="technical supervisors",
)
PROTECTION = StaffGroup(
    code="protection",
    module=Module.PROTECTION,
    supervisor_role=Role.PROTECTION_MANAGER,
    people_label="a protection officer or manager",
    supervisor_label="protection managers",
)
GROUPS = {group.code: group for group in (OPERATIONS, PROTECTION)}


def groups_of(user: User) -> list[StaffGroup]:
    """The staff groups a person belongs to (both, for someone whose roles open both)."""
    return [group for group in GROUPS.values() if group.includes(user)]

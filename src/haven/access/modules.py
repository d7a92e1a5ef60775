"""Module rules: which users a module admits, decided in one place for every domain.

Roles open a module (`haven.accounts.roles.MODULE_ROLES`); these helpers refuse a user whose
roles do not, and say who the module's people are. Objects inside a module stay need-to-know
(`haven.access.policy`).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from haven.access import gates
from haven.accounts.models import User
from haven.accounts.roles import Module, Role


def require_module(user: User, module: Module) -> User:
    """The mount gate's rule (`gates.require_module`), for services and selectors that other
    code may call: a module refusal answers 404 wherever it happens, like an object refusal,
    so that it never confirms what the module holds."""
    return gates.require_module(user, module)


def require_operations(user: User) -> User:
    return require_module(user, Module.OPERATIONS)


def is_technical_supervisor(user: User) -> bool:
    return user.has_role(Role.TECHNICAL_SUPERVISOR)


def require_technical_supervisor(user: User) -> User:
    require_operations(user)
    if not is_technical_supervisor(user):
        raise PermissionDenied("Only technical supervisors can do this")
    return user


def module_people(module: Module) -> list[User]:
    """Active accounts whose roles open the module, by username."""
    return [
        user
        for user in User.objects.filter(is_active=True).order_by("username")
        if user.can_use(module)
    ]

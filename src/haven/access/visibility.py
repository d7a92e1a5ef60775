"""One visibility registry: each protected model states once how its visible set is derived.

As NetBox's `RestrictedQuerySet.restrict(user, action)`: every protected model registers one rule,
a function of the user and the action that answers a filter (`Q`) on that model, and selectors
list protected rows only through `restrict()`. A model nobody registered cannot be listed
through it (`NotRegistered`), so a new protected model cannot silently become listable by all.

Core never imports a domain: each domain registers its own models from its `visibility` module,
which its AppConfig.ready() imports. Rules build on the shared team/grant model in
`access.policy` (cases and deployments) and on the clearance filter here:

    visibility.register(Case, lambda user, action: (
        policy.reachable_filter(user, "case") & visibility.cleared(user)
        if user.can_use(Module.PROTECTION) else visibility.NOTHING
    ))
    cases = visibility.restrict(Case, user)                  # or restrict(a_queryset, user)
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Q, QuerySet

if TYPE_CHECKING:
    from haven.accounts.models import User


class Access(StrEnum):
    VIEW = "view"  # open and list
    CHANGE = "change"  # manage (where a model's rule tells it apart from viewing)


Rule = Callable[["User", Access], Q]
M = TypeVar("M", bound=Model)

# A filter that matches no row (Django answers it without a query).
NOTHING = Q(pk__in=[])
EVERYTHING = Q()

_rules: dict[type[Model], Rule] = {}


class NotRegistered(ImproperlyConfigured):
    """restrict() on a model with no visibility rule: a programming error, never an answer."""


def register(model: type[M], rule: Rule) -> Rule:
    """State how `model`'s visible set is derived. Once per model: a second, different rule
    for the same model is refused."""
    current = _rules.get(model)
    if current is not None and current is not rule:
        raise ImproperlyConfigured(f"{model._meta.label} already has a visibility rule")
    _rules[model] = rule
    return rule


def registered() -> frozenset[type[Model]]:
    return frozenset(_rules)


def rule_for(model: type[Model]) -> Rule:
    try:
        return _rules[model]
    except KeyError:
        raise NotRegistered(
            f"{model._meta.label} has no visibility rule: register one with "
            "haven.access.visibility.register() before listing it"
        ) from None


def visible(model: type[Model], user: User | Any, action: Access | str = Access.VIEW) -> Q:
    """The filter on `model` for what `user` may do `action` to (NOTHING for anonymous users)."""
    rule = rule_for(model)
    if user is None or not user.is_authenticated:
        return NOTHING
    return rule(user, Access(action))


def restrict(
    target: type[M] | QuerySet[M], user: User | Any, action: Access | str = Access.VIEW
) -> QuerySet[M]:
    """The rows of `target` (a model or a queryset of it) `user` may do `action` to."""
    queryset = target._default_manager.all() if isinstance(target, type) else target
    condition = visible(queryset.model, user, action)
    if condition is NOTHING:
        return queryset.none()
    return queryset.filter(condition)


def cleared(user: User, field: str = "classification") -> Q:
    """Never above the user's effective clearance: their clearance, capped by their current
    vetting (`User.effective_clearance`). `field` names the classification to compare."""
    return Q(**{f"{field}__lte": user.effective_clearance})


def open_to(module: str) -> Rule:
    """The rule of a model open to everyone who uses `module` (registers, rotas, alerts)."""

    def rule(user: User, action: Access) -> Q:
        return EVERYTHING if user.can_use(module) else NOTHING

    rule.__doc__ = f"Open to the {module} module."
    return rule
